#!/usr/bin/env python3
"""Run fauxbus (PyPI) with Nagle's algorithm disabled on accepted sockets.

fauxbus serves with http.server's ThreadingHTTPServer; its handler writes
the status line and headers, then the body, in separate send() calls. With
Nagle on, the body waits for the client's delayed ACK (~40 ms), capping a
keep-alive connection near 23 requests/s. socketserver's
StreamRequestHandler sets TCP_NODELAY on the accepted socket in setup()
when the handler class has `disable_nagle_algorithm = True`; this launcher
turns that on for fauxbus's handler and then runs fauxbus's own CLI with
the given arguments (e.g. `serve --port 0`).
"""

import sys

from fauxbus import cli, server

server.FauxbusHandler.disable_nagle_algorithm = True

if __name__ == "__main__":
    sys.exit(cli.main(sys.argv[1:]))
