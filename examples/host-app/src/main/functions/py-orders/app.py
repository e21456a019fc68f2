# A Lambda-style Python function run by Embla's python3 runtime (GraalPy): handler "app.handler".
# It takes EventBridge's Scheduled Event (from a schedule) and SQS's queue event
# ({"Records":[{"messageId":..,"body":"{\"orderId\":..,\"amount\":..}"}]}), and answers what it saw; order totals are
# in cents, so that no floating-point sum is printed.
import json
import logging

from orders.pricing import to_cents

logger = logging.getLogger()
logger.setLevel(logging.INFO)

# Module top level is the Init phase: it runs once per execution environment, so this counter shows warm reuse.
invocations = 0
print('py-orders: init')


def handler(event, context):
    global invocations
    invocations += 1
    if event.get('detail-type') == 'Scheduled Event':
        logger.info('scheduled run for %s', event['time'])
        return {'scheduled': event['time'], 'invocation': invocations}
    records = event.get('Records', [])
    cents = 0
    for record in records:
        order = json.loads(record['body'])
        cents += to_cents(order['amount'])
        logger.info('order %s: %s', order['orderId'], order['amount'])
    return {'orders': len(records), 'totalCents': cents, 'invocation': invocations,
            'requestId': context.aws_request_id}
