//! A round's review queue read in the caller's scope a page at a time (issue 14: memory is
//! bounded everywhere a request reads a whole round). Both users of the queue read it through
//! [`QueueReader`]: `GET /review/queue` (one page, or the whole queue streamed) and the
//! spot-check draw.
use crate::app::AppState;
use crate::problem::ApiResult;
use crate::scope::RoundFilter;
use crate::storage::{Admit, ReviewItem, ReviewPage, ReviewState};
use std::sync::Arc;
use uuid::Uuid;

/// Fewest rows asked of the store at once (a narrow scope filters many out).
const MIN_STORE_PAGE: usize = 50;
/// Most rows asked of the store at once: what one read holds in memory.
pub const MAX_STORE_PAGE: usize = 500;

/// Walks the review queue of one round, oldest response id first, keeping what the caller's
/// scope admits. Each call to [`QueueReader::next`] is a fresh read of the store after the
/// last item handed out, so a long walk never holds a snapshot open.
pub struct QueueReader {
    state: AppState,
    round_id: String,
    admit: Admit,
    review: ReviewState,
    after: Option<Uuid>,
    done: bool,
}

impl QueueReader {
    /// A walk of round `round_id`'s responses in `review` state that `filter` admits (by the
    /// codes of their binding: [`RoundFilter::admits_codes`], decided by the store before any
    /// body is read), starting after response `after` (none: from the start).
    pub fn new(
        state: &AppState,
        round_id: &str,
        filter: RoundFilter,
        review: ReviewState,
        after: Option<Uuid>,
    ) -> QueueReader {
        QueueReader {
            state: state.clone(),
            round_id: round_id.to_owned(),
            admit: Arc::new(move |unit, agency| filter.admits_codes(unit, agency)),
            review,
            after,
            done: false,
        }
    }

    /// The next store page's worth of admitted items ([`MAX_STORE_PAGE`]); `None` once the
    /// queue is over.
    pub async fn next_page(&mut self) -> ApiResult<Option<Vec<ReviewItem>>> {
        let page = self.next(MAX_STORE_PAGE).await?;
        Ok((!page.is_empty()).then_some(page))
    }

    /// The next admitted items, at most `want` (at least one is asked for); fewer than `want`
    /// only at the end of the queue, empty once it is over.
    pub async fn next(&mut self, want: usize) -> ApiResult<Vec<ReviewItem>> {
        let want = want.max(1);
        let mut out = Vec::new();
        while out.len() < want && !self.done {
            let ask = (want - out.len()).clamp(MIN_STORE_PAGE, MAX_STORE_PAGE);
            let page = ReviewPage {
                state: self.review,
                after: self.after,
                limit: u32::try_from(ask).unwrap_or(u32::MAX),
            };
            let stretch = self
                .state
                .store
                .review_stretch(&self.round_id, &page, Arc::clone(&self.admit))
                .await?;
            let last_stretch = (stretch.looked as usize) < ask;
            let mut filled = false;
            for item in stretch.items {
                let id = item.response.id;
                out.push(item);
                if out.len() == want {
                    // What follows this one is read again by the next call.
                    self.after = Some(id);
                    filled = true;
                    break;
                }
            }
            if !filled {
                // Every response looked at was handed out or passed over.
                self.after = stretch.last.or(self.after);
                self.done = last_stretch;
            }
        }
        Ok(out)
    }
}
