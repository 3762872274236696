//! wiring (to be written)
