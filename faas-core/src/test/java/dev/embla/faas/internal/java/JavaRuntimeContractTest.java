package dev.embla.faas.internal.java;

import dev.embla.faas.FunctionCode;
import dev.embla.faas.testing.JavaFunctions;
import dev.embla.faas.testing.RuntimeContract;

/** The {@code java21} runtime passes the runtime contract. */
class JavaRuntimeContractTest extends RuntimeContract {

  @Override
  protected Fixture fixture() {
    FunctionCode code = FunctionCode.fromBytes(JavaFunctions.builder()
        .source("contract.Echo", """
            package contract;
            public class Echo { public Object handle(Object event) { return event; } }""")
        .source("contract.Inits", """
            package contract;
            import java.util.*;
            import java.util.concurrent.atomic.AtomicInteger;
            public class Inits {
              static final String TOKEN = UUID.randomUUID().toString();
              static int inits;
              static final AtomicInteger INVOCATIONS = new AtomicInteger();
              static { inits++; System.out.println("contract-init"); }
              public Map<String, Object> handle(Object event) {
                return Map.of("env", TOKEN, "inits", inits, "invocations", INVOCATIONS.incrementAndGet());
              }
            }""")
        .source("contract.ContractException", """
            package contract;
            public class ContractException extends RuntimeException {
              public ContractException(String message) { super(message); }
            }""")
        .source("contract.Fail", """
            package contract;
            import java.util.Map;
            public class Fail {
              public Object handle(Map<String, String> event) { throw new ContractException(event.get("message")); }
            }""")
        .source("contract.Spin", """
            package contract;
            import java.util.Map;
            public class Spin {
              public String handle(Map<String, Object> event) {
                long n = 0;
                while (Boolean.TRUE.equals(event.get("spin"))) {
                  try { n = Math.addExact(n, 1); } catch (Throwable t) { n = 0; }
                }
                return "ready";
              }
            }""")
        .source("contract.Env", """
            package contract;
            import java.util.Map;
            public class Env { public Map<String, String> handle(Object event) { return System.getenv(); } }""")
        .source("contract.Tmp", """
            package contract;
            import java.nio.file.*;
            import java.util.*;
            public class Tmp {
              static final String TOKEN = UUID.randomUUID().toString();
              public Map<String, Object> handle(Map<String, Object> event) throws Exception {
                Path file = Path.of("/tmp", (String) event.get("file"));
                String before = Files.exists(file) ? Files.readString(file) : null;
                if (event.get("write") != null) Files.writeString(file, (String) event.get("write"));
                if (Boolean.TRUE.equals(event.get("gate"))) System.out.println("contract-gate " + TOKEN);
                Map<String, Object> answer = new HashMap<>();
                answer.put("env", TOKEN);
                answer.put("before", before);
                answer.put("after", Files.exists(file) ? Files.readString(file) : null);
                return answer;
              }
            }""")
        .source("contract.Log", """
            package contract;
            import java.util.Map;
            public class Log {
              public String handle(Map<String, String> event) {
                System.out.println(event.get("message"));
                System.err.println(event.get("message") + " on stderr");
                return "logged";
              }
            }""")
        .source("contract.Gate", """
            package contract;
            import java.util.*;
            import java.util.concurrent.atomic.AtomicInteger;
            public class Gate {
              static final String TOKEN = UUID.randomUUID().toString();
              static final AtomicInteger IN_FLIGHT = new AtomicInteger();
              static final AtomicInteger MAX = new AtomicInteger();
              public Map<String, Object> handle(Object event) {
                MAX.accumulateAndGet(IN_FLIGHT.incrementAndGet(), Math::max);
                try {
                  System.out.println("contract-gate " + TOKEN);
                } finally {
                  IN_FLIGHT.decrementAndGet();
                }
                return Map.of("env", TOKEN, "maxInFlight", MAX.get());
              }
            }""")
        .zip());
    return new Fixture() {
      @Override
      public String runtime() {
        return "java21";
      }

      @Override
      public ContractFunction echo() {
        return new ContractFunction(code, "contract.Echo::handle");
      }

      @Override
      public ContractFunction countsInits() {
        return new ContractFunction(code, "contract.Inits::handle");
      }

      @Override
      public ContractFunction throwsNamedError() {
        return new ContractFunction(code, "contract.Fail::handle");
      }

      @Override
      public String namedErrorType() {
        return "contract.ContractException";
      }

      @Override
      public String guestFrame() {
        return "contract.Fail.handle(";
      }

      @Override
      public ContractFunction spinsForever() {
        return new ContractFunction(code, "contract.Spin::handle");
      }

      @Override
      public ContractFunction readsEnvironment() {
        return new ContractFunction(code, "contract.Env::handle");
      }

      @Override
      public ContractFunction usesTmp() {
        return new ContractFunction(code, "contract.Tmp::handle");
      }

      @Override
      public ContractFunction logs() {
        return new ContractFunction(code, "contract.Log::handle");
      }

      @Override
      public ContractFunction reportsConcurrency() {
        return new ContractFunction(code, "contract.Gate::handle");
      }
    };
  }
}
