package dev.embla.faas.polyglot.js;

import dev.embla.faas.FunctionCode;
import dev.embla.faas.testing.RuntimeContract;

/** The {@code nodejs} runtime passes the runtime contract: every contract function is an export of one module. */
class JsRuntimeContractTest extends RuntimeContract {

  private static final String CONTRACT_JS = """
      const fs = require('fs');
      const token = Math.random().toString(36).slice(2) + Date.now().toString(36);
      let inits = 0;
      inits++;
      console.log('contract-init');
      let invocations = 0;
      let inFlight = 0;
      let maxInFlight = 0;

      class ContractError extends Error {
        constructor(message) { super(message); this.name = 'ContractError'; }
      }
      function failDeliberately(message) { throw new ContractError(message); }

      exports.echo = async (event) => event;
      exports.inits = async () => ({ env: token, inits, invocations: ++invocations });
      exports.fail = async (event) => failDeliberately(event.message);
      exports.spin = async (event) => {
        while (event.spin) { try { JSON.parse('{'); } catch (e) { /* swallowed, as the contract asks */ } }
        return 'ready';
      };
      exports.env = async () => ({ ...process.env });
      exports.tmp = async (event) => {
        const path = '/tmp/' + event.file;
        const read = () => (fs.existsSync(path) ? fs.readFileSync(path) : null);
        const before = read();
        if (event.write !== null) fs.writeFileSync(path, event.write);
        if (event.gate) console.log('contract-gate ' + token);
        return { env: token, before, after: read() };
      };
      exports.logs = async (event) => {
        console.log(event.message);
        console.error(event.message + ' on stderr');
        return 'logged';
      };
      exports.gate = async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try { console.log('contract-gate ' + token); } finally { inFlight--; }
        return { env: token, maxInFlight };
      };
      """;

  @Override
  protected Fixture fixture() {
    FunctionCode code = singleFileZip("contract.js", CONTRACT_JS);
    return new Fixture() {
      @Override
      public String runtime() {
        return "nodejs";
      }

      @Override
      public ContractFunction echo() {
        return new ContractFunction(code, "contract.echo");
      }

      @Override
      public ContractFunction countsInits() {
        return new ContractFunction(code, "contract.inits");
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
        return "failDeliberately";
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
