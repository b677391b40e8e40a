//! RSA and AES-GCM behind one small internal trait (being written).
