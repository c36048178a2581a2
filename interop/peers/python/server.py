"""A real Flask-Limiter server for the ratekit interop suite, started by peers_python.go on loopback.

    python3 server.py PORT '{"path": "/fl", "limit": 50, "seconds": 1, "strategy": "moving-window"}'

One Flask app, one Limiter (in-memory storage, keyed by the client's address, as the library's docs set it
up), one limited route: GET PATH/items at "LIMIT per SECONDS second". "strategy" is one of the strategies of
limits ("fixed-window", "moving-window"). Headers are off by default in Flask-Limiter; they are on here
(headers_enabled=True), as a user who wants clients to pace sets them. Served by waitress (HTTP/1.1,
keep-alive), since werkzeug's development server closes every connection.
"""
import json
import os
import sys

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
import waitress

port = int(sys.argv[1])
config = json.loads(sys.argv[2])

app = Flask(__name__)
limiter = Limiter(
    get_remote_address,
    app=app,
    storage_uri="memory://",
    strategy=config["strategy"],
    headers_enabled=True,
)


@app.get("/__ready")
@limiter.exempt
def ready():
    """The suite's start-up check: this process's pid, outside every limit."""
    return str(os.getpid()), 200, {"Content-Type": "text/plain"}


@app.get(config["path"] + "/items")
@limiter.limit("%d per %d second" % (config["limit"], config["seconds"]))
def items():
    return "ok\n", 200, {"Content-Type": "text/plain"}


print("listening on 127.0.0.1:%d" % port, flush=True)
waitress.serve(app, host="127.0.0.1", port=port, threads=8)
