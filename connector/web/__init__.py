"""`st-connector serve`: the partner's web pages on the connector's own store.

Terms:
    overview       what build_status knows (exchanges, sessions, leerbewijzen, open writes),
                   with attendance and answers, for coordinators who sign in
    personal link  /l/<token>: a signed, expiring link for one person, one exchange and one
                   purpose (connector/core/links.py); no account needed
    answer         what someone sends through their link (connector/store/answers.py)

app.py holds the routes, security.py the defences, forms.py the questions.
"""
