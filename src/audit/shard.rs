//! `--shard I/N`: one of N parallel jobs (GitLab `parallel: N`) audits every N-th project of the
//! sorted list, so the N jobs together cover each project exactly once.

use std::fmt;
use std::str::FromStr;

/// Shard `index` (1-based) of `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: usize,
    total: usize,
}

/// What `--shard` takes, for error messages.
const SYNTAX: &str = "give --shard I/N with 1 <= I <= N, e.g. --shard 2/4, or in a GitLab \
                      `parallel:` job --shard $CI_NODE_INDEX/$CI_NODE_TOTAL";

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || format!("not a shard: {SYNTAX}");
        let (index, total) = text.split_once('/').ok_or_else(bad)?;
        let number = |n: &str| n.trim().parse::<usize>().map_err(|_| bad());
        let (index, total) = (number(index)?, number(total)?);
        if index == 0 || index > total {
            return Err(bad());
        }
        Ok(Self { index, total })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.total)
    }
}

impl Shard {
    /// The one shard of an audit not split.
    pub const ALL: Self = Self { index: 1, total: 1 };

    /// This shard's part of `items`: sorted and deduplicated first, then every N-th from the
    /// I-th on, so that shards are deterministic and disjoint whatever order the items came in.
    pub fn select<T: Ord>(self, mut items: Vec<T>) -> Vec<T> {
        items.sort();
        items.dedup();
        items
            .into_iter()
            .enumerate()
            .filter(|(at, _)| at % self.total == self.index - 1)
            .map(|(_, item)| item)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_bad_ones_say_what_to_write() {
        assert_eq!("2/4".parse(), Ok(Shard { index: 2, total: 4 }));
        assert_eq!(
            "1/1".parse::<Shard>().map(|s| s.to_string()),
            Ok("1/1".into())
        );
        for bad in ["0/2", "3/2", "2", "a/b", "1/0", "/", ""] {
            let err = bad.parse::<Shard>().expect_err(bad);
            assert!(err.contains("--shard I/N"), "{err}");
        }
    }

    #[test]
    fn shards_cover_every_item_exactly_once() {
        let items: Vec<u32> = (0..10).rev().chain([3, 3]).collect();
        let mut all: Vec<u32> = (1..=3)
            .flat_map(|index| Shard { index, total: 3 }.select(items.clone()))
            .collect();
        assert_eq!(
            Shard { index: 1, total: 3 }.select(items.clone()),
            [0, 3, 6, 9]
        );
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
    }
}
