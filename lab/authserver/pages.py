"""HonestBank's sign-in, second-factor, consent and lab pages: plain HTML, no external assets.

Forms carry `data-step` so the scripted user agent (lab.useragent) finds them.
"""

from __future__ import annotations

from typing import Any

from flask import render_template_string

LAYOUT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} · HonestBank</title>
<style>
 body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#f4f6f8;color:#1d2733;
      margin:0}
 header{background:#0b3d5c;color:#fff;padding:.8rem 1.5rem;font-weight:600;letter-spacing:.02em}
 main{max-width:34rem;margin:2rem auto;background:#fff;border-radius:8px;padding:1.5rem 2rem;
      box-shadow:0 1px 4px rgba(0,0,0,.08)}
 h1{font-size:1.35rem;margin-top:0} label{display:block;margin:.8rem 0 .2rem;font-weight:500}
 input[type=text],input[type=password]{width:100%;padding:.55rem;border:1px solid #b8c2cc;
      border-radius:4px;font-size:1rem;box-sizing:border-box}
 button{margin-top:1rem;padding:.55rem 1.2rem;border:0;border-radius:4px;font-size:1rem;
      cursor:pointer;background:#0b6e4f;color:#fff} button.secondary{background:#8a94a0}
 .error{background:#fff1f0;border-left:4px solid #c0392b;padding:.5rem .8rem;margin:.8rem 0}
 .muted{color:#5b6775;font-size:.9rem} .client{font-weight:600}
 fieldset{border:1px solid #d5dce3;border-radius:6px;margin:.8rem 0;padding:.6rem 1rem}
 legend{font-weight:600} .perm{margin:.3rem 0 .3rem 1.6rem;font-size:.95rem}
 table{border-collapse:collapse;width:100%} td,th{text-align:left;padding:.35rem;
      border-bottom:1px solid #e3e7eb;font-size:.92rem}
 code{background:#eef1f4;padding:.05rem .3rem;border-radius:3px}
</style></head>
<body><header>HonestBank</header><main>{{ body|safe }}</main></body></html>"""

LOGIN = """<h1>Sign in to continue to <span class="client">{{ client_name }}</span></h1>
<p class="muted"><span class="client">{{ client_name }}</span> wants to connect to your
HonestBank accounts. Sign in with your HonestBank details; they are never shared with it.</p>
{% if message %}<div class="error">{{ message }}</div>{% endif %}
<form method="post" action="{{ action }}" data-step="login">
 <input type="hidden" name="pending" value="{{ pending }}">
 <label for="username">User name</label>
 <input type="text" id="username" name="username" autocomplete="username" value="{{ username }}">
 <label for="password">Password</label>
 <input type="password" id="password" name="password" autocomplete="current-password">
 <button type="submit">Sign in</button>
</form>"""

MFA = """<h1>Confirm it's you</h1>
<p>{{ hint }}</p>
{% if message %}<div class="error">{{ message }}</div>{% endif %}
<form method="post" action="{{ action }}" data-step="mfa">
 <input type="hidden" name="pending" value="{{ pending }}">
 <label for="code">Code</label>
 <input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code">
 <button type="submit" name="action" value="verify">Confirm</button>
 {% if sms %}
 {% if sms %}
 <button type="submit" name="action" value="resend" class="secondary">Send a new code</button>
 <p class="muted">Lab: the code arrives in the
 <a href="{{ sms_url }}" target="_blank">SMS inbox</a>.</p>
 {% endif %}
  <a href="{{ sms_url }}" target="_blank">SMS inbox</a>.</p>
 {% endif %}
</form>"""

CONSENT = """<h1><span class="client">{{ client_name }}</span> asks for access</h1>
<p class="muted">Signed in as <strong>{{ username }}</strong>. Choose what to share; you can
withdraw it at any time on the bank's connected-apps page.</p>
{% if message %}<div class="error">{{ message }}</div>{% endif %}
<form method="post" action="{{ action }}" data-step="consent">
 <input type="hidden" name="pending" value="{{ pending }}">
 {% if identity %}<ul>{% for line in identity %}<li>{{ line }}</li>{% endfor %}</ul>{% endif %}
 {% for account in accounts %}
 <fieldset>
  <legend><label><input type="checkbox" name="account" value="{{ account.id }}"
   data-type="{{ account.type }}"> {{ account.name }}</label></legend>
  <div class="muted">{{ account.iban }} · {{ account.currency }}</div>
  {% for perm, words in permissions %}
  <div class="perm"><label><input type="checkbox" name="perm:{{ account.id }}" value="{{ perm }}"
   checked> {{ words }}</label></div>
  {% endfor %}
 </fieldset>
 {% endfor %}
 <button type="submit" name="action" value="approve">Allow</button>
 <button type="submit" name="action" value="deny" class="secondary">Deny</button>
</form>"""

SMS = """<h1>Lab SMS inbox</h1>
<p class="muted">Messages HonestBank "sent" to customers' phones, newest first. In real life only
the phone's owner sees these.</p>
<table><tr><th>Sent (lab time)</th><th>To</th><th>Message</th><th></th></tr>
{% for m in messages %}<tr><td>{{ m.sent }}</td><td>{{ m.phone }} ({{ m.username }})</td>
<td>{{ m.body }}</td><td>{{ "used" if m.used else "" }}</td></tr>{% endfor %}
</table>"""

INDEX = """<h1>HonestBank authorization server</h1>
<p>The lab's OpenID Provider. Issuer <code>{{ issuer }}</code>.</p>
<ul><li><a href="/.well-known/openid-configuration">OpenID configuration</a></li>
<li><a href="/jwks">Public keys (JWKS)</a></li><li><a href="/lab/sms">Lab SMS inbox</a></li></ul>"""


def page(title: str, template: str, **context: Any) -> str:
    body = render_template_string(template, **context)
    return render_template_string(LAYOUT, title=title, body=body)
