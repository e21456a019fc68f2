package dev.embla.faas.polyglot.python;

import dev.embla.faas.FaasEngine;
import dev.embla.faas.FunctionCode;
import dev.embla.faas.testing.RuntimeContract;

/** The {@code python3} runtime passes the runtime contract: every contract function is a function of one module. */
class PyRuntimeContractTest extends RuntimeContract {

  // print(..., flush=True) where the contract holds the invocation on a line: the gate needs the line to reach the
  // engine before the function goes on.
  private static final String CONTRACT_PY = """
      import os
      import uuid

      token = uuid.uuid4().hex
      inits = 0
      inits += 1
      print('contract-init', flush=True)
      invocations = 0
      in_flight = 0
      max_in_flight = 0

      class ContractError(Exception):
          pass

      def fail_deliberately(message):
          raise ContractError(message)

      def echo(event, context):
          return event

      def count(event, context):
          global invocations
          invocations += 1
          return {'env': token, 'inits': inits, 'invocations': invocations}

      def fail(event, context):
          fail_deliberately(event['message'])

      def spin(event, context):
          while event.get('spin'):
              try:
                  int('not a number')
              except BaseException:
                  pass  # swallowed, as the contract asks
          return 'ready'

      def env(event, context):
          return dict(os.environ)

      def tmp(event, context):
          path = '/tmp/' + event['file']

          def read():
              if not os.path.exists(path):
                  return None
              with open(path, encoding='utf-8') as f:
                  return f.read()

          before = read()
          if event['write'] is not None:
              with open(path, 'w', encoding='utf-8') as f:
                  f.write(event['write'])
          if event['gate']:
              print('contract-gate ' + token, flush=True)
          return {'env': token, 'before': before, 'after': read()}

      def logs(event, context):
          import sys
          print(event['message'], flush=True)
          print(event['message'] + ' on stderr', file=sys.stderr, flush=True)
          return 'logged'

      def gate(event, context):
          global in_flight, max_in_flight
          in_flight += 1
          max_in_flight = max(max_in_flight, in_flight)
          try:
              print('contract-gate ' + token, flush=True)
          finally:
              in_flight -= 1
          return {'env': token, 'maxInFlight': max_in_flight}
      """;

  @Override
  protected Fixture fixture() {
    FunctionCode code = singleFileZip("contract.py", CONTRACT_PY);
    return new Fixture() {
      @Override
      public String runtime() {
        return "python3";
      }

      @Override
      public FaasEngine.Builder engineBuilder() {
        // GraalPy's first start in a process takes seconds; paying it here keeps it out of the functions' Init.
        return FaasEngine.builder().warmUpRuntime("python3");
      }

      @Override
      public ContractFunction echo() {
        return new ContractFunction(code, "contract.echo");
      }

      @Override
      public ContractFunction countsInits() {
        return new ContractFunction(code, "contract.count");
      }

      @Override
      public ContractFunction throwsNamedError() {
        return new ContractFunction(code, "contract.fail");
      }

      @Override
      public String namedErrorType() {
        return "ContractError";
      }

      @Override
      public String guestFrame() {
        return "fail_deliberately";
      }

      @Override
      public ContractFunction spinsForever() {
        return new ContractFunction(code, "contract.spin");
      }

      @Override
      public ContractFunction readsEnvironment() {
        return new ContractFunction(code, "contract.env");
      }

      @Override
      public ContractFunction usesTmp() {
        return new ContractFunction(code, "contract.tmp");
      }

      @Override
      public ContractFunction logs() {
        return new ContractFunction(code, "contract.logs");
      }

      @Override
      public ContractFunction reportsConcurrency() {
        return new ContractFunction(code, "contract.gate");
      }
    };
  }
}
