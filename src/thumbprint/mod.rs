//! thumbprint (to be written)
