// Pure: the health check command Docker runs inside a container. It is shell, so it is built
// through the one quoting helper.
import { sh } from "./shell";

/**
 * Health check run inside the container: curl, else wget, else python3, since slim images
 * rarely ship all three.
 */
export function healthCheckCommand(port: number, path: string): string[] {
  const url = `http://127.0.0.1:${port}${path}`;
  const python = "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=4)";
  return [
    "CMD-SHELL",
    sh`curl -fsS -o /dev/null ${url} || wget -q -O /dev/null ${url} || python3 -c ${python} ${url} || exit 1`
      .text,
  ];
}
