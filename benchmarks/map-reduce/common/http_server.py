"""Serves handler.lambda_handler over HTTP (POST / with the event as JSON) for non-Lambda platforms."""
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from handler import lambda_handler


class Context:
    aws_request_id = "local"
    function_name = os.environ.get("FUNCTION_NAME", "map-reduce")


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        event = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        try:
            status, body = 200, lambda_handler(event, Context())
        except Exception as error:  # report as Lambda would, with the error's type and message
            status, body = 500, {"errorType": type(error).__name__, "errorMessage": str(error)}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8080"))), Handler).serve_forever()
