"""FinLens, the lab's TPP: an aggregator web app that links bank accounts into one view.

An OAuth client of every institution in its directory. Tokens stay server-side
in the store; pending flows live in the browser session (FAPI2 §5.3.3.2).
The Flask app factory is `lab.tpp.app.create_app`; importing this package imports no Flask.
"""
