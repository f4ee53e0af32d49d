"""HonestBank's sign-in, second-factor, consent and lab pages: plain HTML, no external assets.

Forms carry `data-step` so the scripted user agent (lab.useragent) finds them.
"""

from __future__ import annotations

from typing import Any

from lab.web.look import HONESTBANK_CSS
from lab.web.templates import render_string

LAYOUT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} · HonestBank</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<style>{{ css|safe }}</style></head>
<body><header><span class="brand">HonestBank</span></header>
<main>{{ body|safe }}</main></body></html>"""

LOGIN = """<h1>Sign in to continue to <span class="client">{{ client_name }}</span></h1>
<p class="muted"><span class="client">{{ client_name }}</span> wants to connect to your
HonestBank accounts. Sign in with your HonestBank details; they are never shared with it.</p>
{% if message %}<div class="error">{{ message }}</div>{% endif %}
{% if reasons %}<p>Why:</p><ul class="reasons">{% for r in reasons %}<li>{{ r }}</li>{% endfor %}
</ul>{% endif %}
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
 <button type="submit" name="action" value="resend" class="secondary">Send a new code</button>
 <p class="muted">Lab: the code arrives in the
 <a href="{{ sms_url }}" target="_blank">SMS inbox</a>.</p>
 {% endif %}
</form>"""

CONSENT = """<h1><span class="client">{{ client_name }}</span> {% if payment %}asks you to confirm a
payment{% else %}asks for access{% endif %}</h1>
<p class="muted">Signed in as <strong>{{ username }}</strong>. Choose what to share; you can
withdraw it at any time on the bank's connected-apps page.</p>
{% if message %}<div class="error">{{ message }}</div>{% endif %}
<form method="post" action="{{ action }}" data-step="consent">
 <input type="hidden" name="pending" value="{{ pending }}">
 {% if identity %}<ul>{% for line in identity %}<li>{{ line }}</li>{% endfor %}</ul>{% endif %}
 {% if payment %}
 <fieldset class="payment" data-payment>
  <legend>Pay <strong data-amount>{{ payment.amount_text() }} {{ payment.currency }}</strong>
   to <strong data-payee>{{ payment.creditor_name }}</strong></legend>
  <div>Payee's IBAN: <code data-iban>{{ payment.creditor_iban }}</code></div>
  <div>Reference: <span data-reference>{{ payment.reference or "(none)" }}</span></div>
  <p class="muted">Once, exactly this amount to this payee. Choose the account it leaves:</p>
  {% for account in pay_from %}
  <div><label><input type="radio" name="debtor_account" value="{{ account.id }}"
   data-type="{{ account.type }}" {% if loop.first %}checked{% endif %}> {{ account.name }}
   <span class="muted">{{ account.iban }} · {{ account.currency }}</span></label></div>
  {% else %}
  <div class="error">None of your accounts can make this payment (its currency is
   {{ payment.currency }}).</div>
  {% endfor %}
 </fieldset>
 {% endif %}
 {% for scope, words in extras %}
 <div><label><input type="checkbox" name="share" value="{{ scope }}" checked>
  {{ words }}</label></div>
 {% endfor %}
 {% for account in accounts %}
 <fieldset>
  <legend><label><input type="checkbox" name="account" value="{{ account.id }}"
   data-type="{{ account.type }}" checked> {{ account.name }}</label></legend>
  <div class="muted">{{ account.iban }} · {{ account.currency }}</div>
  {% for perm, words in permissions %}
  <div class="perm"><label><input type="checkbox" name="perm:{{ account.id }}" value="{{ perm }}"
   checked> {{ words }}</label></div>
  {% endfor %}
 </fieldset>
 {% endfor %}
 {% for grant in earlier %}
 <div class="amend"><label><input type="checkbox" name="replaces" value="{{ grant.id }}">
  This changes the access {{ client_name }} already has ({{ grant.accounts | length }}
  account{{ "" if grant.accounts | length == 1 else "s" }}, <code>{{ grant.scope }}</code>):
  that access ends, and what was issued for it stops working.</label></div>
 {% endfor %}
 {% if earlier_more %}
 <div class="amend"><label><input type="checkbox" name="replaces" value="{{ older_than }}">
  …and {{ "{:,}".format(earlier_more) }} earlier link{{ "" if earlier_more == 1 else "s" }} to
  {{ client_name }}: this changes {{ "it" if earlier_more == 1 else "them" }} too, and what was
  issued for {{ "it" if earlier_more == 1 else "them" }} stops working.</label></div>
 {% endif %}
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
    body = render_string(template, **context)
    return render_string(LAYOUT, title=title, body=body, css=HONESTBANK_CSS)
