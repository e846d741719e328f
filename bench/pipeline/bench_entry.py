"""Wraps lambda_function.lambda_handler for the pipeline benchmark: appends the size of each
invocation's batch to $BENCH_BATCH_LOG (so that the standalone run replays the same batches),
and waits while the file $BENCH_GATE is missing (so that a backlog builds up in the Kinesis
stream, whose drain then shows what delivery alone sustains)."""

import os
import time

import lambda_function

_log = open(os.environ["BENCH_BATCH_LOG"], "a", buffering=1) if os.environ.get("BENCH_BATCH_LOG") else None
_gate = os.environ.get("BENCH_GATE")


def handler(event, context):
    while _gate and not os.path.exists(_gate):
        time.sleep(0.005)
    if _log is not None:
        _log.write(f"{len(event['records'])}\n")
    return lambda_function.lambda_handler(event, context)
