//! The results criterion wrote for `benches/micro.rs` (`<target>/criterion/<group>/<bench>/new/estimates.json`).

use std::path::Path;

#[derive(Debug)]
pub struct Micro {
    pub id: String,
    /// Nanoseconds per iteration: median, and the 95% confidence interval of the median.
    pub median_ns: f64,
    pub low_ns: f64,
    pub high_ns: f64,
}

pub fn load(criterion_dir: &Path) -> Vec<Micro> {
    let mut out = Vec::new();
    let Ok(groups) = std::fs::read_dir(criterion_dir) else { return out };
    for group in groups.flatten() {
        let Ok(benches) = std::fs::read_dir(group.path()) else { continue };
        for bench in benches.flatten() {
            let file = bench.path().join("new/estimates.json");
            let Ok(text) = std::fs::read_to_string(&file) else { continue };
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else { continue };
            let m = &v["median"];
            let (Some(median), Some(low), Some(high)) = (
                m["point_estimate"].as_f64(),
                m["confidence_interval"]["lower_bound"].as_f64(),
                m["confidence_interval"]["upper_bound"].as_f64(),
            ) else {
                continue;
            };
            out.push(Micro {
                id: format!("{}/{}", group.file_name().to_string_lossy(), bench.file_name().to_string_lossy()),
                median_ns: median,
                low_ns: low,
                high_ns: high,
            });
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}
