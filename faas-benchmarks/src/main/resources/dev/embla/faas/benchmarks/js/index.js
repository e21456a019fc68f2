// The benchmarks' small JavaScript function, one file for both sides of the comparison: JsBenchmark runs it on
// GraalJS through Embla's nodejs runtime (and calls it directly on a held Value), node/vm-bench.js runs it in a new
// Node.js vm.Context. It reads the event and the context and builds a small result, as a real handler would.
exports.handler = async (event, context) => ({
  greeting: 'hello ' + event.name,
  n: event.n + 1,
  requestId: context.awsRequestId,
});
