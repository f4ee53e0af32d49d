"""HonestBank's one look, shared by its authorization server's pages and its online banking.

A lab that teaches phishing must not teach that the real bank's pages differ from each other:
the sign-in a participant meets while linking FinLens and the one at online banking are the
same bank, so they share this stylesheet (inline: both origins' CSP allows no stylesheet URL).
"""

from __future__ import annotations

HONESTBANK_CSS = """
 body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#f4f6f8;color:#1d2733;
      margin:0;line-height:1.5}
 header{background:#0b3d5c;color:#fff;padding:.8rem 1.5rem;display:flex;align-items:center;
      justify-content:space-between;gap:1rem}
 header .brand{font-weight:600;letter-spacing:.02em}
 main{max-width:40rem;margin:2rem auto;background:#fff;border-radius:8px;padding:1.5rem 2rem;
      box-shadow:0 1px 4px rgba(0,0,0,.08)}
 h1{font-size:1.35rem;margin-top:0} h2{font-size:1.1rem;margin:.2rem 0 .4rem}
 label{display:block;margin:.8rem 0 .2rem;font-weight:500}
 input[type=text],input[type=password]{width:100%;padding:.55rem;border:1px solid #b8c2cc;
      border-radius:4px;font-size:1rem;box-sizing:border-box}
 button{margin-top:1rem;padding:.55rem 1.2rem;border:0;border-radius:4px;font-size:1rem;
      cursor:pointer;background:#0b6e4f;color:#fff} button.secondary{background:#8a94a0}
 button.danger{background:#b42318;margin-top:.4rem}
 button.link{background:none;color:#fff;text-decoration:underline;padding:0;margin:0;font:inherit}
 form.inline{display:inline;margin:0}
 .error{background:#fff1f0;border-left:4px solid #c0392b;padding:.5rem .8rem;margin:.8rem 0}
 .flash{background:#ecfdf3;border-left:4px solid #0b6e4f;padding:.5rem .8rem;margin:.8rem 0}
 .muted{color:#5b6775;font-size:.9rem} .client{font-weight:600}
 .card{border:1px solid #d5dce3;border-radius:6px;padding:.8rem 1.2rem;margin:1rem 0}
 fieldset{border:1px solid #d5dce3;border-radius:6px;margin:.8rem 0;padding:.6rem 1rem}
 legend{font-weight:600} .perm{margin:.3rem 0 .3rem 1.6rem;font-size:.95rem}
 table{border-collapse:collapse;width:100%} td,th{text-align:left;padding:.35rem;
      border-bottom:1px solid #e3e7eb;font-size:.92rem}
 code{background:#eef1f4;padding:.05rem .3rem;border-radius:3px} ul{margin:.3rem 0}
"""
