//! Test machines: local processes (later qemu, ssh); console capture; a pool running N tests in parallel.
