// A Lambda-style Node.js function run by Embla's nodejs runtime (GraalJS): handler "index.handler".
// It takes a queue event in SQS's shape ({"Records":[{"messageId":..,"body":"{\"orderId\":..,\"amount\":..}"}]})
// and returns how many orders it saw and their total, in cents, so that no floating-point sum is printed.

// Module top level is the Init phase: it runs once per execution environment, so this counter shows warm reuse.
let invocations = 0;
console.log('js-orders: init');

exports.handler = async (event, context) => {
  invocations++;
  const records = Array.isArray(event.Records) ? event.Records : [];
  let cents = 0;
  for (const record of records) {
    const order = JSON.parse(record.body);
    cents += Math.round(order.amount * 100);
    console.log(`order ${order.orderId}: ${order.amount}`);
  }
  return { orders: records.length, totalCents: cents, invocation: invocations, requestId: context.awsRequestId };
};
