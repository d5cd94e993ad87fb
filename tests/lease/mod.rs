//! Work that must happen once, with several nodes on one store: two apps over one SQLite
//! file, each with its own store handle and lease holder, as two `ponte serve` processes
//! would be.

mod lost_chats;
