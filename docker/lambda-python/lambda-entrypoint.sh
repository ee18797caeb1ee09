#!/bin/sh
# As in the AWS base images: with a Runtime API (real Lambda, faas local) run the runtime client;
# without one, run the Runtime Interface Emulator if it was mounted in, else say what is missing.
if [ $# -lt 1 ]; then
  echo "lambda-entrypoint: no handler given (set CMD, e.g. handler.lambda_handler)" >&2
  exit 142
fi
if [ -n "$AWS_LAMBDA_RUNTIME_API" ]; then
  exec python3 -m awslambdaric "$@"
fi
if [ -x /usr/local/bin/aws-lambda-rie ]; then
  exec /usr/local/bin/aws-lambda-rie python3 -m awslambdaric "$@"
fi
echo "lambda-entrypoint: AWS_LAMBDA_RUNTIME_API is not set; run this image with 'faas local' or on AWS Lambda" >&2
exit 142
