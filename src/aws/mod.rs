//! aws (to be written)
