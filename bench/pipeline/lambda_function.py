"""The benchmark's Firehose transform (bench/pipeline): flattens the DynamoDB JSON of a
Kinesis-for-DynamoDB change record into one plain JSON line, as tests/wire/test_pipeline.py's
FLATTEN does. Deployed as is (lambda_function.lambda_handler) and called standalone."""

import base64
import json
from decimal import Decimal


def plain(value):
    (kind, v), = value.items()
    if kind == "S":
        return v
    if kind == "N":
        d = Decimal(v)
        return int(d) if d == d.to_integral_value() else float(d)
    if kind == "M":
        return {k: plain(x) for k, x in v.items()}
    if kind == "L":
        return [plain(x) for x in v]
    if kind == "NULL":
        return None
    return v


def lambda_handler(event, context):
    out = []
    for record in event["records"]:
        change = json.loads(base64.b64decode(record["data"]))
        image = change.get("dynamodb", {}).get("NewImage")
        if image is None:
            out.append({"recordId": record["recordId"], "result": "Dropped"})
            continue
        row = {k: plain(v) for k, v in image.items()}
        row["_event"] = change.get("eventName")
        line = json.dumps(row, sort_keys=True) + "\n"
        out.append({"recordId": record["recordId"], "result": "Ok",
                    "data": base64.b64encode(line.encode()).decode()})
    return {"records": out}
