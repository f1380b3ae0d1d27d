//! Microdata in bounded memory (issue 14): `GET /rounds/{id}/microdata` reads the counted
//! responses of the round as a stream ([`crate::storage::ResultsStore::counted_rows`]), turns
//! them into rows with [`MicrodataStream`] on a blocking thread and hands the file over as it
//! is written: the CSV as the body of the answer chunk by chunk, the XLSX (constant-memory
//! worksheet) through a temporary file, the SPSS syntax once every row has been seen (it only
//! keeps the widest value of each column). Memory is bounded by the buffers below and the
//! rows of one unit held back for `blank_small_units`, not by the round.
//!
//! The bytes are those of the in-memory path ([`sipas_core::microdata::to_csv`],
//! [`sipas_core::microdata::spss_syntax`], [`crate::results_export::microdata_xlsx`]), which
//! the server keeps as the reference ([`crate::app::AppState::index_from_responses`]).
//! A storage error before the first row is answered as usual; one after the answer has
//! started ends the body early (the client sees a broken transfer), and is logged.
use crate::problem::{ApiError, ApiResult};
use crate::results_export::MicrodataXlsx;
use crate::scope::RoundFilter;
use crate::storage::StoreError;
use crate::storage::results::{CountedRow, CountedRows};
use axum::body::{Body, Bytes};
use sipas_core::microdata::{
    MicrodataInput, MicrodataOptions, MicrodataRow, MicrodataStream, csv_head, csv_record,
};
use sipas_core::questionnaire::Questionnaire;
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Bytes gathered before a chunk of the body is sent.
const CHUNK: usize = 64 * 1024;
/// Chunks of the body waiting for the client at most.
const CHUNKS_AHEAD: usize = 4;

/// What turns the stored rows into microdata rows.
pub struct Job {
    /// The round's form.
    pub form: Arc<Questionnaire>,
    /// The export options.
    pub options: MicrodataOptions,
    /// The caller's scope over the round (decided from the codes).
    pub filter: RoundFilter,
    /// Agency kind code by agency code (the catalogue).
    pub kinds: BTreeMap<String, &'static str>,
    /// Round id (for the log).
    pub round_id: String,
    /// Who asked (for the log).
    pub actor: uuid::Uuid,
}

/// The rows of `rows` in order, with the first one already received; `Err` on the first
/// storage error. The blocking side of every format.
struct Rows {
    first: Option<CountedRow>,
    rest: CountedRows,
}

impl Rows {
    fn next(&mut self) -> Option<Result<CountedRow, StoreError>> {
        match self.first.take() {
            Some(r) => Some(Ok(r)),
            None => self.rest.blocking_recv(),
        }
    }
}

/// Waits for the first row so that an error before any output is answered as an error.
pub async fn start(mut rows: CountedRows) -> ApiResult<(Option<CountedRow>, CountedRows)> {
    match rows.recv().await {
        None => Ok((None, rows)),
        Some(Ok(first)) => Ok((Some(first), rows)),
        Some(Err(e)) => Err(e.into()),
    }
}

/// Feeds every row of `rows` in the caller's scope through `stream`, giving `sink` the rows
/// that are ready; stops early when `sink` says so (`Ok(false)`: the client left).
fn drive<E>(
    job: &Job,
    stream: &mut MicrodataStream,
    mut rows: Rows,
    mut sink: impl FnMut(&mut Vec<MicrodataRow>) -> Result<bool, E>,
) -> Result<bool, DriveError<E>> {
    let mut ready = Vec::new();
    while let Some(row) = rows.next() {
        let row = row.map_err(DriveError::Store)?;
        let r = &row.response;
        let agency_code = row.codes.agency_code.as_deref();
        if !job.filter.admits_codes(&r.unit_code, agency_code) {
            continue;
        }
        stream.push(
            &MicrodataInput {
                response_id: r.id,
                revision: r.revision,
                counted: true,
                round_id: &r.round_id,
                unit_code: &r.unit_code,
                agency_code,
                agency_kind: agency_code.and_then(|a| job.kinds.get(a)).copied(),
                field_code: row.codes.field_code.as_deref(),
                answers: &r.answers,
            },
            &mut ready,
        );
        if !ready.is_empty() && !sink(&mut ready).map_err(DriveError::Sink)? {
            return Ok(false);
        }
    }
    stream.finish(&mut ready);
    if !ready.is_empty() && !sink(&mut ready).map_err(DriveError::Sink)? {
        return Ok(false);
    }
    Ok(true)
}

/// Why [`drive`] stopped.
#[derive(Debug, thiserror::Error)]
enum DriveError<E> {
    #[error("reading the responses: {0}")]
    Store(StoreError),
    #[error("writing the file: {0}")]
    Sink(E),
}

fn log_done(job: &Job, rows: u64) {
    tracing::info!(actor = %job.actor, round_id = %job.round_id, rows, "microdata exported");
}

/// A body fed by a channel of chunks.
pub(crate) fn channel_body(rx: mpsc::Receiver<Result<Bytes, std::io::Error>>) -> Body {
    Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    }))
}

/// The CSV file as a body written while the rows stream.
pub fn csv_body(job: Job, first: Option<CountedRow>, rest: CountedRows) -> Body {
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(CHUNKS_AHEAD);
    tokio::task::spawn_blocking(move || {
        let mut stream = MicrodataStream::new(&job.form, &job.options);
        let mut buf = csv_head(stream.columns());
        let rows = Rows { first, rest };
        let done = drive(&job, &mut stream, rows, |ready| {
            for row in ready.drain(..) {
                buf.push_str(&csv_record(&row));
            }
            if buf.len() >= CHUNK {
                let chunk = Bytes::from(std::mem::take(&mut buf));
                return Ok::<_, std::convert::Infallible>(tx.blocking_send(Ok(chunk)).is_ok());
            }
            Ok(true)
        });
        match done {
            Ok(true) => {
                if !buf.is_empty() {
                    let _ = tx.blocking_send(Ok(Bytes::from(buf)));
                }
                log_done(&job, stream.rows());
            }
            Ok(false) => tracing::info!(round_id = %job.round_id, "microdata CSV abandoned"),
            Err(e) => {
                tracing::error!(error = %e, round_id = %job.round_id, "microdata CSV failed");
                let _ = tx.blocking_send(Err(std::io::Error::other("microdata failed")));
            }
        }
    });
    channel_body(rx)
}

/// The SPSS syntax labelling the CSV `csv_name`: every row is read (only the widest value
/// of each column is kept), then the syntax is written.
pub async fn sps(
    job: Job,
    first: Option<CountedRow>,
    rest: CountedRows,
    csv_name: String,
) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || {
        let mut stream = MicrodataStream::new(&job.form, &job.options);
        let rows = Rows { first, rest };
        drive(&job, &mut stream, rows, |ready| {
            ready.clear();
            Ok::<_, std::convert::Infallible>(true)
        })
        .map_err(|e| {
            tracing::error!(error = %e, round_id = %job.round_id, "microdata SPSS failed");
            ApiError::internal()
        })?;
        log_done(&job, stream.rows());
        Ok(stream.spss_syntax(&csv_name))
    })
    .await
    .map_err(|_| ApiError::internal())?
}

/// The XLSX file: the rows go to a constant-memory worksheet as they stream, the workbook
/// is saved to an unnamed temporary file, and the file becomes the body chunk by chunk.
pub async fn xlsx(
    job: Job,
    first: Option<CountedRow>,
    rest: CountedRows,
    note: String,
) -> ApiResult<Body> {
    let file = tokio::task::spawn_blocking(move || {
        let mut stream = MicrodataStream::new(&job.form, &job.options);
        let mut book = MicrodataXlsx::new(stream.codebook()).map_err(xlsx_failed)?;
        let rows = Rows { first, rest };
        let written = drive(&job, &mut stream, rows, |ready| {
            for row in ready.drain(..) {
                book.push(&row)?;
            }
            Ok::<_, rust_xlsxwriter::XlsxError>(true)
        });
        if let Err(e) = written {
            tracing::error!(error = %e, round_id = %job.round_id, "microdata XLSX failed");
            return Err(ApiError::internal());
        }
        let mut file = tempfile::tempfile().map_err(|e| {
            tracing::error!(error = %e, "microdata XLSX: no temporary file");
            ApiError::internal()
        })?;
        book.save(stream.codebook(), &note, &mut file)
            .map_err(xlsx_failed)?;
        file.seek(SeekFrom::Start(0)).map_err(|e| {
            tracing::error!(error = %e, "microdata XLSX: temporary file");
            ApiError::internal()
        })?;
        log_done(&job, stream.rows());
        Ok::<_, ApiError>(file)
    })
    .await
    .map_err(|_| ApiError::internal())??;
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(CHUNKS_AHEAD);
    tokio::task::spawn_blocking(move || {
        let mut file = file;
        loop {
            let mut chunk = vec![0; CHUNK];
            match file.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    chunk.truncate(n);
                    if tx.blocking_send(Ok(Bytes::from(chunk))).is_err() {
                        break;
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "microdata XLSX: reading the temporary file");
                    let _ = tx.blocking_send(Err(e));
                    break;
                }
            }
        }
    });
    Ok(channel_body(rx))
}

fn xlsx_failed(e: rust_xlsxwriter::XlsxError) -> ApiError {
    tracing::error!(error = %e, "microdata XLSX failed");
    ApiError::internal()
}
