//! Evaluation on several threads. Blocks of lines are read one at a time, in trace order, by
//! whichever worker has time, and numbered. The worker that read a block parses all of its
//! lines, outside any lock, and hands each line's event to the worker that owns its account.
//! Each worker evaluates its share of every block in block order, so an account's events keep
//! trace order. Parsing, most of the work, goes to whoever is free; evaluating, to the owner;
//! and no line is scanned twice.

use std::collections::VecDeque;
use std::io::Read;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use rustc_hash::FxHashMap;

use super::Failure;
use super::read::{BLOCK, Block, Reader};
use crate::driver::{Options, Parts, Run, Stop};
use crate::eval::Event;
use crate::model::Model;
use crate::trace::{LineError, parse_line};

/// Blocks read ahead of the worker furthest behind: bounds the memory held in batches.
const WINDOW: u64 = 16;

/// A parsed line, for the worker that owns its account.
enum Item {
    /// An event of the account numbered `.0` (see [`Owners`]).
    Event(u32, Event),
    /// A line that is not an event: its number and why.
    Bad(u64, LineError),
}

/// One worker's lines of a block (numbered from `first`).
struct Batch {
    block: Arc<Block>,
    first: u64,
    items: Vec<Item>,
}

/// A block's place in a worker's inbox: not parsed yet, or parsed (with no lines for the
/// worker, or its batch).
type Slot = Option<Option<Batch>>;

/// Which worker owns each account. An account is given, when first seen, to the worker with
/// the fewest lines so far: traces are heavy-tailed (a few accounts hold much of the trace),
/// and a hash of the name would leave one worker with more. The report does not depend on it.
#[derive(Default)]
struct Owners {
    /// Account name to its number and its worker.
    by_name: FxHashMap<String, (u32, u16)>,
    /// Account names by number.
    names: Vec<String>,
    /// Lines given to each worker.
    load: Vec<u64>,
}

impl Owners {
    fn of(&mut self, name: &str) -> (u32, u16) {
        if let Some(&o) = self.by_name.get(name) {
            return o;
        }
        let w = (0..self.load.len())
            .min_by_key(|&w| self.load[w])
            .unwrap_or(0);
        // Jobs are at most 1,024 (the command line's bound); accounts are fewer than lines,
        // and a run past 4 billion accounts would run out of memory first.
        let o = (self.names.len() as u32, w as u16);
        self.names.push(name.to_string());
        self.by_name.insert(name.to_string(), o);
        o
    }
}

/// What the workers coordinate on.
struct State {
    /// Per worker, its slots from its next block on.
    inbox: Vec<VecDeque<Slot>>,
    /// Per worker, the number of the next block it evaluates.
    next: Vec<u64>,
    /// Blocks read so far (numbered from 0).
    claimed: u64,
    /// Blocks in all, once the reading is over.
    total: Option<u64>,
    /// The last block to evaluate: a line in it stops the run.
    stop: Option<u64>,
    /// A worker failed: every worker leaves.
    abort: bool,
    owners: Owners,
    /// Buffers of spent blocks and batches, for reuse.
    spare_blocks: Vec<Vec<u8>>,
    spare_items: Vec<Vec<Item>>,
}

impl State {
    /// Whether a worker may read the next block: the reading is not over, no line stopped the
    /// run, and the read-ahead is within the window.
    fn may_read(&self) -> bool {
        let behind = self.next.iter().copied().min().unwrap_or(0);
        self.total.is_none() && self.stop.is_none() && self.claimed < behind + WINDOW
    }

    fn stop_at(&mut self, block: u64) {
        self.stop = Some(self.stop.map_or(block, |s| s.min(block)));
    }

    /// Keeps a spent batch's buffers, the block's once no one else holds it.
    fn recycle(&mut self, mut batch: Batch) {
        batch.items.clear();
        if self.spare_items.len() < 2 * WINDOW as usize {
            self.spare_items.push(batch.items);
        }
        self.recycle_block(batch.block);
    }

    fn recycle_block(&mut self, block: Arc<Block>) {
        if let Some(b) = Arc::into_inner(block)
            && b.data.len() <= 2 * BLOCK
            && self.spare_blocks.len() < WINDOW as usize
        {
            self.spare_blocks.push(b.data);
        }
    }
}

/// The stream, read by one worker at a time.
struct Feed<R> {
    reader: Reader<R>,
    /// The number of the next block.
    block: u64,
    /// The number of the next line.
    line: u64,
    failure: Option<Failure>,
}

/// What the workers share.
struct Hub<'m, R> {
    m: &'m Model,
    jobs: usize,
    keep_going: bool,
    feed: Mutex<Feed<R>>,
    state: Mutex<State>,
    /// Signalled at every change of `state` a waiting worker may be waiting for.
    wake: Condvar,
}

/// What a worker does next.
enum Job {
    /// Read and parse the next block.
    Read,
    /// Evaluate its lines of block `.0`.
    Eval(u64, Option<Batch>),
    /// Leave: its blocks are all evaluated, or the run stopped.
    Done,
}

impl<R: Read> Hub<'_, R> {
    /// The state; a worker that panicked holding it set `abort`, which is all that is read then.
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What worker `me` does next, once `spent` (its last batch) is recycled: evaluates its
    /// next block when it is parsed, else reads; waits only when it may not read.
    fn next_job(&self, me: usize, spent: Option<Batch>) -> Result<Job, Failure> {
        let mut st = self.state();
        if let Some(b) = spent {
            st.recycle(b);
        }
        loop {
            if st.abort {
                return Err(Failure::eval("a worker thread failed".into()));
            }
            let next = st.next[me];
            if st.stop.is_some_and(|s| next > s) || st.total.is_some_and(|t| next >= t) {
                return Ok(Job::Done);
            }
            if st.inbox[me].front().is_some_and(Option::is_some) {
                let slot = st.inbox[me].pop_front().flatten().flatten();
                st.next[me] += 1;
                // The window may have opened for a worker waiting to read.
                self.wake.notify_all();
                return Ok(Job::Eval(next, slot));
            }
            // Reading ahead while there is a block to evaluate gains nothing: a worker that
            // reads a block it is caught up with evaluates its own lines as it parses them.
            if st.may_read() {
                return Ok(Job::Read);
            }
            st = self.wake.wait(st).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Reads the next block, parses its lines and hands them to their workers. When worker
    /// `me` has evaluated every block before this one, it evaluates its own lines as it parses
    /// them (they are in its cache then, and need no hand-over).
    fn read(&self, me: usize, run: &mut Run<'_>, names: &mut Names) -> Result<(), Failure> {
        let (block, number, first, direct) = {
            let mut feed = self.feed.lock().map_err(|_| lost())?;
            let spare = self.state().spare_blocks.pop();
            match feed.reader.next(spare) {
                Ok(Some(b)) => {
                    let (number, first) = (feed.block, feed.line);
                    feed.block += 1;
                    feed.line += memchr::memchr_iter(b'\n', b.bytes()).count() as u64 + 1;
                    let mut st = self.state();
                    st.claimed = feed.block;
                    (b, number, first, st.next[me] == number)
                }
                end => {
                    if let Err(f) = end {
                        feed.failure.get_or_insert(f);
                    }
                    self.state().total = Some(feed.block);
                    self.wake.notify_all();
                    return Ok(());
                }
            }
        };
        let block = Arc::new(block);
        let mut batches: Vec<Vec<Item>> = {
            let mut st = self.state();
            (0..self.jobs)
                .map(|_| st.spare_items.pop().unwrap_or_default())
                .collect()
        };
        let (mut stop, mut failed) = (false, None);
        for (line, _, raw) in block.lines(first) {
            let item = match raw {
                Ok(text) => match parse_line(self.m, text, line) {
                    Ok(None) => continue,
                    Ok(Some(p)) => Item::Event(names.key(self, p.account), p.event),
                    Err(e) => Item::Bad(line, e),
                },
                Err(_) => Item::Bad(line, LineError::not_text()),
            };
            let w = match &item {
                Item::Event(key, _) => usize::from(names.owner[*key as usize]),
                Item::Bad(..) => {
                    stop |= !self.keep_going;
                    (line % self.jobs as u64) as usize
                }
            };
            names.lines[w] += 1;
            if direct && w == me {
                if let Err(stop) = apply(run, self, item) {
                    let text = raw.map_or_else(|b| b, str::as_bytes).to_vec();
                    failed = Some(Failure { stop, text });
                    break;
                }
                continue;
            }
            batches[w].push(item);
        }
        let mut st = self.state();
        names.count(&mut st.owners);
        for (w, items) in batches.into_iter().enumerate() {
            let slot = if items.is_empty() {
                st.spare_items.push(items);
                None
            } else {
                Some(Batch {
                    block: Arc::clone(&block),
                    first,
                    items,
                })
            };
            // A worker evaluates a block only once it is here, so it is not past it.
            let Some(at) = number.checked_sub(st.next[w]) else {
                debug_assert!(false, "worker {w} is past block {number}");
                continue;
            };
            let at = at as usize;
            let inbox = &mut st.inbox[w];
            if inbox.len() <= at {
                inbox.resize_with(at + 1, || None);
            }
            inbox[at] = Some(slot);
        }
        if stop || failed.is_some() {
            // A bad line stops a run without --keep-going: read no further, and evaluate no
            // block after this one.
            st.stop_at(number);
        }
        st.recycle_block(block);
        self.wake.notify_all();
        failed.map_or(Ok(()), Err)
    }

    /// The name of the account numbered `key`.
    fn name(&self, key: u32) -> String {
        let st = self.state();
        st.owners
            .names
            .get(key as usize)
            .cloned()
            .unwrap_or_default()
    }
}

/// The failure of a lock whose holder panicked.
fn lost() -> Failure {
    Failure::eval("a worker thread failed".into())
}

/// Evaluates a batch; on a failure, the failing line's text goes with it.
fn eval<R: Read>(run: &mut Run<'_>, hub: &Hub<'_, R>, batch: &mut Batch) -> Result<(), Failure> {
    for item in batch.items.drain(..) {
        let line = match &item {
            Item::Event(_, ev) => ev.line,
            Item::Bad(line, _) => *line,
        };
        if let Err(stop) = apply(run, hub, item) {
            // Found again, rather than carried with every line.
            let text = batch
                .block
                .lines(batch.first)
                .find(|&(n, _, _)| n == line)
                .map_or_else(Vec::new, |(_, _, raw)| {
                    raw.map_or_else(|b| b, str::as_bytes).to_vec()
                });
            return Err(Failure { stop, text });
        }
    }
    Ok(())
}

/// Evaluates a parsed line.
fn apply<R: Read>(run: &mut Run<'_>, hub: &Hub<'_, R>, item: Item) -> Result<(), Stop> {
    match item {
        Item::Event(key, ev) => run.event_keyed(key, || hub.name(key), ev),
        Item::Bad(line, e) => run.reject(line, e),
    }
}

/// A worker's copy of the account numbers and owners it has met, so it rarely takes the
/// lock to look one up; and the lines it has given each worker since it last told
/// [`Owners`].
struct Names {
    key: FxHashMap<String, u32>,
    /// Owner by account number (`u16::MAX`: not met yet).
    owner: Vec<u16>,
    lines: Vec<u64>,
}

impl Names {
    fn new(jobs: usize) -> Names {
        Names {
            key: FxHashMap::default(),
            owner: Vec::new(),
            lines: vec![0; jobs],
        }
    }

    /// Adds the lines counted here to the workers' loads.
    fn count(&mut self, owners: &mut Owners) {
        for (load, n) in owners.load.iter_mut().zip(&mut self.lines) {
            *load += std::mem::take(n);
        }
    }

    /// The number of an account, and its owner in `self.owner`.
    fn key<R: Read>(&mut self, hub: &Hub<'_, R>, name: std::borrow::Cow<'_, str>) -> u32 {
        if let Some(&k) = self.key.get(&*name) {
            return k;
        }
        // The loads include the lines of this block so far: the accounts met in one block
        // (all of them, in a short trace) spread by their lines too.
        let (k, w) = {
            let mut st = hub.state();
            self.count(&mut st.owners);
            st.owners.of(&name)
        };
        if self.owner.len() <= k as usize {
            self.owner.resize(k as usize + 1, u16::MAX);
        }
        self.owner[k as usize] = w;
        self.key.insert(name.into_owned(), k);
        k
    }
}

/// Worker `me`: evaluates its accounts' lines block by block, and reads when it has none.
fn worker<R: Read>(hub: &Hub<'_, R>, opts: Options, me: usize) -> Result<Parts, Failure> {
    let _leave = Leave(hub);
    let mut run = Run::new(hub.m, opts);
    let mut names = Names::new(hub.jobs);
    let mut spent = None;
    loop {
        match hub.next_job(me, spent.take())? {
            Job::Done => break,
            Job::Read => hub.read(me, &mut run, &mut names)?,
            Job::Eval(_, None) => {}
            Job::Eval(number, Some(mut batch)) => {
                if let Err(f) = eval(&mut run, hub, &mut batch) {
                    // The run stops here: other workers evaluate up to this block, for a
                    // line before this one, and no further.
                    hub.state().stop_at(number);
                    hub.wake.notify_all();
                    return Err(f);
                }
                spent = Some(batch);
            }
        }
    }
    run.into_parts().map_err(|stop| Failure {
        stop,
        text: Vec::new(),
    })
}

/// Stops every worker when one leaves in a panic, so that none waits for its blocks.
struct Leave<'h, 'm, R: Read>(&'h Hub<'m, R>);

impl<R: Read> Drop for Leave<'_, '_, R> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.state().abort = true;
            self.0.wake.notify_all();
        }
    }
}

/// Runs `jobs` workers over the stream; each returns the parts of the accounts it owns.
pub(super) fn eval_parallel<R: Read + Send>(
    m: &Model,
    opts: &Options,
    reader: Reader<R>,
    jobs: usize,
) -> Result<Vec<Parts>, Failure> {
    let hub = Hub {
        m,
        jobs,
        keep_going: opts.keep_going,
        feed: Mutex::new(Feed {
            reader,
            block: 0,
            line: 1,
            failure: None,
        }),
        state: Mutex::new(State {
            inbox: (0..jobs).map(|_| VecDeque::new()).collect(),
            next: vec![0; jobs],
            claimed: 0,
            total: None,
            stop: None,
            abort: false,
            owners: Owners {
                load: vec![0; jobs],
                ..Owners::default()
            },
            spare_blocks: Vec::new(),
            spare_items: Vec::new(),
        }),
        wake: Condvar::new(),
    };
    // What a one-thread run would report first: a thread that failed, else the earliest bad
    // line (a one-thread run evaluates every line it has read before reading on), else a read
    // error, else what failed after the last line (carrying pending sums into an account).
    let mut thread: Option<Failure> = None;
    let mut bad_line: Option<Failure> = None;
    let mut after: Option<Failure> = None;
    let parts = std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for me in 0..jobs {
            let o = opts.clone();
            let hub = &hub;
            let spawned = std::thread::Builder::new()
                .name(format!("worker-{me}"))
                .spawn_scoped(scope, move || worker(hub, o, me));
            match spawned {
                Ok(h) => handles.push(h),
                Err(e) => {
                    thread = Some(Failure::eval(format!("cannot start a worker thread: {e}")));
                    // The workers started wait for this one's blocks: stop them.
                    hub.state().abort = true;
                    hub.wake.notify_all();
                    break;
                }
            }
        }
        let mut parts = Vec::new();
        for h in handles {
            match h.join() {
                Ok(Ok(p)) => parts.push(p),
                Ok(Err(f)) if f.line().is_some() => {
                    if bad_line.as_ref().is_none_or(|b| f.line() < b.line()) {
                        bad_line = Some(f);
                    }
                }
                Ok(Err(f)) => {
                    after.get_or_insert(f);
                }
                Err(_) => {
                    thread.get_or_insert(lost());
                }
            }
        }
        parts
    });
    let read = match hub.feed.into_inner() {
        Ok(feed) => feed.failure,
        Err(_) => {
            thread.get_or_insert(lost());
            None
        }
    };
    match thread.or(bad_line).or(read).or(after) {
        Some(f) => Err(f),
        None => Ok(parts),
    }
}

#[cfg(test)]
mod tests {
    use super::Owners;

    #[test]
    fn a_new_account_goes_to_the_worker_with_the_fewest_lines() {
        let mut owners = Owners {
            load: vec![0; 3],
            ..Owners::default()
        };
        let (heavy, w) = owners.of("heavy");
        assert_eq!((heavy, w), (0, 0));
        owners.load[0] += 1_000;
        // The light ones share the other two workers, and keep their numbers and workers.
        let mut light = Vec::new();
        for i in 0..10 {
            let (k, w) = owners.of(&format!("light-{i}"));
            assert_ne!(w, 0, "light-{i}");
            owners.load[usize::from(w)] += 10;
            light.push((k, w));
        }
        assert_eq!(owners.load, [1_000, 50, 50]);
        for (i, &o) in light.iter().enumerate() {
            assert_eq!(owners.of(&format!("light-{i}")), o);
        }
        assert_eq!(owners.of("heavy"), (0, 0));
        assert_eq!(owners.names[3], "light-2");
    }
}
