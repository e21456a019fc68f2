package dev.embla.faas.spi.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FunctionOutputStreamTest {

  @Test
  void write_splitsLinesAndCutsOutputWithoutNewlinesAtMaxLine() {
    List<String> lines = new ArrayList<>();
    FunctionOutputStream sink =
        new FunctionOutputStream((stream, line) -> lines.add(line), FunctionOutput.Stream.STDOUT);
    sink.write("a\r\nb\n".getBytes(StandardCharsets.UTF_8), 0, 5);
    byte[] flood = "y".repeat(FunctionOutputStream.MAX_LINE * 2 + 10).getBytes(StandardCharsets.UTF_8);
    sink.write(flood, 0, flood.length);
    sink.flushPartial();
    assertThat(lines).hasSize(5);
    assertThat(lines.subList(0, 2)).containsExactly("a", "b");
    assertThat(lines.get(2)).hasSize(FunctionOutputStream.MAX_LINE);
    assertThat(lines.get(3)).hasSize(FunctionOutputStream.MAX_LINE);
    assertThat(lines.get(4)).hasSize(10);
  }
}
