// SPDX-License-Identifier: GPL-2.0

//! The errnos the migration logic answers with, as the positive numbers of
//! `include/uapi/asm-generic/errno-base.h` and `errno.h`; functions return
//! them negated, like the kernel does.

/// Out of memory: upstream's answer to a record larger than a LOAD can take.
pub(crate) const ENOMEM: i32 = 12;
/// No such device: the migration file is in its error state.
pub(crate) const ENODEV: i32 = 19;
/// Invalid argument.
pub(crate) const EINVAL: i32 = 22;
/// Try again: a non-blocking read found no data yet.
pub(crate) const EAGAIN: i32 = 11;
/// No message of desired type: the temporary end of a PRE_COPY stream.
pub(crate) const ENOMSG: i32 = 42;
/// Operation not supported: an unknown mandatory record in the stream.
pub(crate) const EOPNOTSUPP: i32 = 95;
