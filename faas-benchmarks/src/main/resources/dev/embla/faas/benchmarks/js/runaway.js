// A runaway loop inside try/catch: only the runtime can stop it (JavaScript cannot catch a context cancellation).
exports.handler = async () => {
  let x = 0;
  for (;;) {
    try {
      x = (x + 1) % 1000003;
    } catch (e) {
      x = 0;
    }
  }
};
