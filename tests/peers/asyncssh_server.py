"""An SSH server that is not OpenSSH nor russh, for sshtun's byte-path tests.

asyncssh (Python) serving direct-tcpip (-L, -D) and tcpip-forward (-R) for
one authorized key. Usage:

    asyncssh_server.py HOST_KEY AUTHORIZED_KEYS REKEY_BYTES

Prints the port it listens on (127.0.0.1, chosen by the kernel) on stdout,
then serves until killed.
"""

import asyncio
import sys

import asyncssh


class Server(asyncssh.SSHServer):
    def connection_requested(self, dest_host, dest_port, orig_host, orig_port):
        # True: asyncssh connects to dest_host:dest_port itself.
        return True

    def server_requested(self, listen_host, listen_port):
        return True


async def main():
    host_key, authorized_keys, rekey_bytes = sys.argv[1], sys.argv[2], int(sys.argv[3])
    server = await asyncssh.create_server(
        Server,
        "127.0.0.1",
        0,
        server_host_keys=[host_key],
        authorized_client_keys=authorized_keys,
        rekey_bytes=rekey_bytes,
        allow_pty=False,
    )
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)
    await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main())
