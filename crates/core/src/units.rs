//! Administrative units as a tree with codes and validity dates (stub: being written).
