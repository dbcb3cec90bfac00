//! Sizes as a person reads them.

/// `135M`, `1.2B`.
pub fn human_params(n: u64) -> String {
    if n >= 1_000_000_000 {
        format!("{:.1}B", n as f64 / 1e9)
    } else {
        format!("{}M", (n + 500_000) / 1_000_000)
    }
}

/// `512 kB`, `98 MB`, `1.1 GB` (decimal units, as disks and downloads are sold).
pub fn human_bytes(n: u64) -> String {
    match n {
        0..=999_999 => format!("{} kB", n / 1000),
        1_000_000..=999_999_999 => format!("{} MB", n / 1_000_000),
        _ => format!("{:.1} GB", n as f64 / 1e9),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(super::human_params(134_515_008), "135M");
        assert_eq!(super::human_params(1_235_814_400), "1.2B");
        assert_eq!(super::human_bytes(98_000_000), "98 MB");
        assert_eq!(super::human_bytes(1_117_320_768), "1.1 GB");
        assert_eq!(super::human_bytes(4_096), "4 kB");
    }
}
