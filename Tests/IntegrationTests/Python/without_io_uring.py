"""Runs a command where io_uring_setup fails with the errno named, as a container
runtime's seccomp profile or systemd's SystemCallFilter= makes it fail.

    python3 without_io_uring.py EPERM|ENOSYS COMMAND [ARGS...]
"""

import ctypes
import errno
import os
import struct
import sys

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
# io_uring_setup's number on every architecture Linux added it to after 5.1 (x86_64 too).
NR_IO_URING_SETUP = 425
BPF_LD_W_ABS = 0x20
BPF_JEQ_K = 0x15
BPF_RET_K = 0x06


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def instruction(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k)


def main() -> None:
    refusal = getattr(errno, sys.argv[1])
    program = b"".join(
        [
            instruction(BPF_LD_W_ABS, 0, 0, 0),  # the system call's number
            instruction(BPF_JEQ_K, 0, 1, NR_IO_URING_SETUP),
            instruction(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | refusal),
            instruction(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW),
        ]
    )
    buffer = ctypes.create_string_buffer(program)
    fprog = SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        sys.exit(f"prctl(PR_SET_NO_NEW_PRIVS): {os.strerror(ctypes.get_errno())}")
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        sys.exit(f"prctl(PR_SET_SECCOMP): {os.strerror(ctypes.get_errno())}")
    os.execv(sys.argv[2], sys.argv[2:])


if __name__ == "__main__":
    main()
