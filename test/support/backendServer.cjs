// A stub tenant backend, run inside a test host's network namespace (node under nsenter): it
// answers every request with `tenant <name>` on 127.0.0.1:<port>, and prints "ready" once bound.
const { createServer } = require("node:http");

const [tenant, port] = process.argv.slice(2);
const server = createServer((req, res) => {
  res.setHeader("Connection", "close");
  res.end(`tenant ${tenant}`);
});
server.listen(Number(port), "127.0.0.1", () => process.stdout.write("ready\n"));
