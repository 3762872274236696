//! plugin (to be written)
