"""Capture: mitmproxy as the lab's front door, recording every exchange by leg."""
