//! The one way kbisect runs an external program: timeout, process group, TERM then KILL, capped output.
