"""Serves a benchmark function's lambda_handler the way vSwarm and Knative call functions.

One shim for every benchmark's docker/Dockerfile (faas adds this folder to each build context as
.faas/serving/), so the served function runs the very handler the Lambda image runs:
- gRPC helloworld.Greeter/SayHello on 50051 (vSwarm): the request's `name` is the event when it parses
  as a JSON object, else the event is {"name": name}; the reply's `message` is the result as JSON text.
- HTTP POST / on $PORT, 8080 by default (Knative): the body is the event, the answer the result as JSON.
FAAS_HANDLER names the handler as a Lambda image's CMD does (module.function, default
handler.lambda_handler). A handler error is gRPC status INTERNAL, or HTTP 500 with Lambda's error shape.
"""
import importlib
import json
import os
import signal
import sys
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

GRPC_PORT = int(os.environ.get("GRPC_PORT", "50051"))
HTTP_PORT = int(os.environ.get("PORT", "8080"))


def helloworld_messages():
    """HelloRequest{string name = 1} and HelloReply{string message = 1}, built from a descriptor (no protoc step)."""
    proto = descriptor_pb2.FileDescriptorProto(name="helloworld.proto", package="helloworld", syntax="proto3")
    for message, field in (("HelloRequest", "name"), ("HelloReply", "message")):
        m = proto.message_type.add(name=message)
        m.field.add(name=field, number=1, type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING, label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return tuple(message_factory.GetMessageClass(pool.FindMessageTypeByName(f"helloworld.{name}")) for name in ("HelloRequest", "HelloReply"))


HelloRequest, HelloReply = helloworld_messages()


def load_handler(spec):
    module, _, function = spec.rpartition(".")
    return getattr(importlib.import_module(module), function)


class Context:
    """The parts of Lambda's context object that benchmark handlers read."""

    function_name = os.environ.get("FUNCTION_NAME", "function")
    memory_limit_in_mb = int(os.environ.get("MEMORY_MB", "0")) or None

    def __init__(self):
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self):
        return 900_000


def event_of(name):
    try:
        event = json.loads(name)
    except ValueError:
        return {"name": name}
    return event if isinstance(event, dict) else {"name": name}


def serve(handler):
    def say_hello(request, context):
        try:
            result = handler(event_of(request.name), Context())
        except Exception as error:  # the caller sees the handler's error, as a Lambda caller would
            context.abort(grpc.StatusCode.INTERNAL, f"{type(error).__name__}: {error}")
        return HelloReply(message=json.dumps(result))

    class Http(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a load generator expects

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                event = json.loads(body or b"{}")
                status, result = 200, handler(event, Context())
            except Exception as error:
                status, result = 500, {"errorType": type(error).__name__, "errorMessage": str(error)}
            data = json.dumps(result).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    http = ThreadingHTTPServer(("0.0.0.0", HTTP_PORT), Http)
    http.daemon_threads = True
    threading.Thread(target=http.serve_forever, daemon=True).start()
    server = grpc.server(ThreadPoolExecutor(max_workers=int(os.environ.get("GRPC_WORKERS", "8"))))
    method = grpc.unary_unary_rpc_method_handler(say_hello, request_deserializer=HelloRequest.FromString, response_serializer=HelloReply.SerializeToString)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("helloworld.Greeter", {"SayHello": method}),))
    server.add_insecure_port(f"0.0.0.0:{GRPC_PORT}")
    server.start()
    # docker stop sends SIGTERM: finish in-flight calls briefly, then exit 0.
    signal.signal(signal.SIGTERM, lambda *_: (server.stop(2), http.shutdown(), sys.exit(0)))
    print(f"serving {Context.function_name}: gRPC helloworld.Greeter on {GRPC_PORT}, HTTP POST / on {HTTP_PORT}", flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    sys.path.insert(0, os.getcwd())
    serve(load_handler(os.environ.get("FAAS_HANDLER", "handler.lambda_handler")))
