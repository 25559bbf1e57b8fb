//! A TCP proxy for fault injection: forwards `127.0.0.1:<port>` to an upstream address that can
//! change (a failover behind a fixed address), and can cut connections (close every open one
//! and refuse new ones for a while), stall them (forward nothing for a while, then go on),
//! hold the connections open now while new ones pass (a zombie's requests held across a
//! restart), or corrupt one byte of the next binlog row event it forwards from a
//! MySQL/MariaDB server.
//!
//! It runs on its own thread and runtime, so that a test blocked in `std::thread::sleep`
//! does not hold it up.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the proxy does with traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forward.
    Pass,
    /// Close open connections, accept and close new ones.
    Cut,
    /// Keep connections open and forward nothing.
    Stall,
}

/// The mode, and how many cuts there were: a connection opened before the latest cut ends
/// even if the mode is back to [`Mode::Pass`] by the time its task looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct State {
    mode: Mode,
    cuts: u64,
    /// Connections with a serial below this one have their requests held whatever the mode.
    held_below: u64,
}

/// State shared with the proxy's tasks.
struct Shared {
    upstream: Mutex<SocketAddr>,
    mode: watch::Sender<State>,
    /// Set to corrupt the next binlog row event; cleared once done.
    corrupt: AtomicBool,
    corrupted: AtomicU64,
    /// The serial of the next connection accepted.
    serials: AtomicU64,
}

/// A running proxy; dropping it stops it.
pub struct Proxy {
    port: u16,
    shared: Arc<Shared>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl Proxy {
    /// Listens on `127.0.0.1:port` and forwards to `upstream`.
    pub fn start(port: u16, upstream: SocketAddr) -> Self {
        let (mode, _) = watch::channel(State {
            mode: Mode::Pass,
            cuts: 0,
            held_below: 0,
        });
        let shared = Arc::new(Shared {
            upstream: Mutex::new(upstream),
            mode,
            corrupt: AtomicBool::new(false),
            corrupted: AtomicU64::new(0),
            serials: AtomicU64::new(0),
        });
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let task_shared = shared.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("proxy runtime");
            runtime.block_on(async move {
                let listener = TcpListener::bind(("127.0.0.1", port))
                    .await
                    .unwrap_or_else(|e| panic!("proxy cannot listen on {port}: {e}"));
                ready_tx.send(()).expect("proxy started");
                tokio::select! {
                    _ = accept_loop(listener, task_shared) => {}
                    _ = stopped => {}
                }
            });
        });
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("proxy listening");
        Self {
            port,
            shared,
            _shutdown: shutdown,
        }
    }

    /// `127.0.0.1:<port>`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Forwards new connections to `upstream` from now on and closes the open ones.
    pub fn switch_upstream(&self, upstream: SocketAddr) {
        *self.shared.upstream.lock().expect("upstream lock") = upstream;
        self.set(Mode::Cut);
        std::thread::sleep(Duration::from_millis(100));
        self.set(Mode::Pass);
    }

    /// Sets the mode.
    pub fn set(&self, mode: Mode) {
        self.shared.mode.send_modify(|state| {
            if mode == Mode::Cut {
                state.cuts += 1;
            }
            state.mode = mode;
        });
    }

    /// Holds what the connections open now send to the server (a client's requests) until
    /// [`Proxy::release`]: the proxy reads and keeps it, even after the client is gone. The
    /// server's responses still pass, and new connections pass.
    pub fn hold_open(&self) {
        let next = self.shared.serials.load(Ordering::SeqCst);
        self.shared
            .mode
            .send_modify(|state| state.held_below = next);
    }

    /// Lets the connections held by [`Proxy::hold_open`] go on: what they kept is forwarded.
    pub fn release(&self) {
        self.shared.mode.send_modify(|state| state.held_below = 0);
    }

    /// Corrupts one byte of the next binlog row event forwarded from the server.
    pub fn corrupt_next_row_event(&self) {
        self.shared.corrupt.store(true, Ordering::SeqCst);
    }

    /// How many events were corrupted.
    pub fn corrupted(&self) -> u64 {
        self.shared.corrupted.load(Ordering::SeqCst)
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        let opened = *shared.mode.borrow();
        if opened.mode == Mode::Cut {
            drop(client);
            continue;
        }
        let serial = shared.serials.fetch_add(1, Ordering::SeqCst);
        let shared = shared.clone();
        tokio::spawn(async move {
            let upstream = *shared.upstream.lock().expect("upstream lock");
            let Ok(server) = TcpStream::connect(upstream).await else {
                return;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let (client_read, client_write) = client.into_split();
            let (server_read, server_write) = server.into_split();
            let mut scanner = RowEventScanner::default();
            let up = pump(
                client_read,
                server_write,
                shared.mode.subscribe(),
                Connection {
                    cuts: opened.cuts,
                    held: Some(serial),
                },
                |_| {},
            );
            let down = pump(
                server_read,
                client_write,
                shared.mode.subscribe(),
                Connection {
                    cuts: opened.cuts,
                    held: None,
                },
                |buf| scanner.scan(buf, &shared),
            );
            // A direction that ends shuts its write side down (dropping it), and the other
            // one still forwards what it has: a killed client's held requests reach the server.
            tokio::join!(up, down);
        });
    }
}

/// Which connection a direction belongs to.
#[derive(Debug, Clone, Copy)]
struct Connection {
    /// The cuts before it opened: it ends at the next one.
    cuts: u64,
    /// Its serial, in the direction that [`Proxy::hold_open`] holds (client to server).
    held: Option<u64>,
}

/// What one direction of a connection does in a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// Read and forward.
    Forward,
    /// Read and keep what it reads, forward nothing.
    Keep,
    /// Neither read nor forward.
    Stop,
    /// Close.
    End,
}

impl Connection {
    fn flow(self, now: State) -> Flow {
        match now.mode {
            _ if now.cuts != self.cuts => Flow::End,
            Mode::Cut => Flow::End,
            _ if self.held.is_some_and(|serial| serial < now.held_below) => Flow::Keep,
            Mode::Stall => Flow::Stop,
            Mode::Pass => Flow::Forward,
        }
    }
}

/// Copies from `from` to `to` as the mode allows, passing each chunk through `inspect`;
/// ends at the first cut after the connection opened, or once `from` ended and what was
/// read from it is forwarded.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut mode: watch::Receiver<State>,
    connection: Connection,
    mut inspect: impl FnMut(&mut [u8]),
) {
    const CHUNK: usize = 64 * 1024;
    // Read and not yet forwarded: held through a stall, dropped by a cut.
    let mut kept: Vec<u8> = Vec::with_capacity(CHUNK);
    let mut open = true;
    loop {
        let now = *mode.borrow_and_update();
        match connection.flow(now) {
            Flow::End => return,
            Flow::Forward if !kept.is_empty() => {
                tokio::select! {
                    written = to.write_all(&kept) => if written.is_err() {
                        return;
                    },
                    _ = cut_after(&mut mode, connection.cuts) => return,
                }
                kept.clear();
            }
            Flow::Forward if !open => return,
            Flow::Forward | Flow::Keep if open => {
                kept.reserve(CHUNK);
                let start = kept.len();
                tokio::select! {
                    read = from.read_buf(&mut kept) => match read {
                        Ok(0) | Err(_) => open = false,
                        Ok(_) => inspect(&mut kept[start..]),
                    },
                    changed = mode.changed() => if changed.is_err() {
                        return;
                    },
                }
            }
            // Stopped, or keeping after `from` ended: wait for the mode to change.
            _ => {
                if mode.changed().await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Resolves at the first cut after `cuts` (never, if the proxy is gone).
async fn cut_after(mode: &mut watch::Receiver<State>, cuts: u64) {
    loop {
        if mode.borrow_and_update().cuts != cuts {
            return;
        }
        if mode.changed().await.is_err() {
            return std::future::pending().await;
        }
    }
}

/// Finds binlog row events in the server-to-client packet stream of a MySQL connection and,
/// when asked, flips the last byte of one event's row data (before its checksum).
#[derive(Default)]
struct RowEventScanner {
    header: [u8; 4],
    header_len: usize,
    payload_len: usize,
    offset: usize,
    is_event: bool,
    target: bool,
}

/// Row event types: WRITE/UPDATE/DELETE_ROWS v1 (23-25) and v2 (30-32).
const ROW_EVENTS: [u8; 6] = [23, 24, 25, 30, 31, 32];

impl RowEventScanner {
    fn scan(&mut self, buf: &mut [u8], shared: &Shared) {
        for byte in buf.iter_mut() {
            if self.header_len < 4 {
                self.header[self.header_len] = *byte;
                self.header_len += 1;
                if self.header_len == 4 {
                    self.payload_len = usize::from(self.header[0])
                        | usize::from(self.header[1]) << 8
                        | usize::from(self.header[2]) << 16;
                    self.offset = 0;
                    self.target = false;
                    if self.payload_len == 0 {
                        self.header_len = 0;
                    }
                }
                continue;
            }
            // Payload byte `offset`: an event packet is 0x00, then the 19-byte event header
            // (timestamp 4, type 1, ...), the body, and the 4-byte checksum.
            match self.offset {
                0 => self.is_event = *byte == 0,
                5 => {
                    self.target = self.is_event
                        && self.payload_len > 40
                        && ROW_EVENTS.contains(byte)
                        && shared.corrupt.load(Ordering::SeqCst)
                }
                o if self.target && o + 5 == self.payload_len => {
                    *byte ^= 0x5a;
                    shared.corrupt.store(false, Ordering::SeqCst);
                    shared.corrupted.fetch_add(1, Ordering::SeqCst);
                    self.target = false;
                }
                _ => {}
            }
            self.offset += 1;
            if self.offset == self.payload_len {
                self.header_len = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// An echo server on an ephemeral port.
    fn echo_server() -> SocketAddr {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                std::thread::spawn(move || {
                    let mut buf = [0u8; 1024];
                    while let Ok(n) = stream.read(&mut buf) {
                        if n == 0 || stream.write_all(&buf[..n]).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        addr
    }

    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port()
    }

    fn echo(stream: &mut std::net::TcpStream, text: &[u8]) -> std::io::Result<Vec<u8>> {
        stream.write_all(text)?;
        let mut got = vec![0u8; text.len()];
        stream.read_exact(&mut got)?;
        Ok(got)
    }

    #[test]
    fn forwards_stalls_and_cuts() {
        let proxy = Proxy::start(free_port(), echo_server());
        let mut conn = std::net::TcpStream::connect(proxy.address()).expect("connect");
        conn.set_read_timeout(Some(Duration::from_millis(500)))
            .expect("timeout");
        assert_eq!(echo(&mut conn, b"one").expect("echo"), b"one");
        proxy.hold_open();
        let mut newer = std::net::TcpStream::connect(proxy.address()).expect("connect");
        assert_eq!(
            echo(&mut newer, b"new").expect("echo"),
            b"new",
            "new ones pass"
        );
        assert!(echo(&mut conn, b"old").is_err(), "the held one does not");
        proxy.release();
        let mut held = [0u8; 3];
        conn.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        conn.read_exact(&mut held).expect("held bytes arrive");
        assert_eq!(&held, b"old");
        conn.set_read_timeout(Some(Duration::from_millis(500)))
            .expect("timeout");
        proxy.set(Mode::Stall);
        assert!(
            echo(&mut conn, b"two").is_err(),
            "nothing comes back while stalled"
        );
        proxy.set(Mode::Pass);
        let mut late = [0u8; 3];
        conn.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        conn.read_exact(&mut late).expect("held bytes arrive");
        assert_eq!(&late, b"two");
        proxy.set(Mode::Cut);
        let mut rest = [0u8; 1];
        assert_eq!(
            conn.read(&mut rest).unwrap_or(0),
            0,
            "a cut closes the connection"
        );
        let mut refused = std::net::TcpStream::connect(proxy.address()).expect("accepted");
        refused
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        assert_eq!(
            refused.read(&mut rest).unwrap_or(0),
            0,
            "and new ones while cut"
        );
        proxy.set(Mode::Pass);
        let mut again = std::net::TcpStream::connect(proxy.address()).expect("connect");
        assert_eq!(echo(&mut again, b"three").expect("echo"), b"three");
        // A cut over before the connection's task looks still ends it.
        proxy.set(Mode::Cut);
        proxy.set(Mode::Pass);
        again
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        assert_eq!(
            again.read(&mut rest).unwrap_or(0),
            0,
            "a brief cut closes it too"
        );
    }

    #[test]
    fn corrupts_the_byte_before_the_checksum_of_one_row_event() {
        let (mode, _) = watch::channel(State {
            mode: Mode::Pass,
            cuts: 0,
            held_below: 0,
        });
        let shared = Shared {
            upstream: Mutex::new("127.0.0.1:1".parse().expect("addr")),
            mode,
            corrupt: AtomicBool::new(false),
            corrupted: AtomicU64::new(0),
            serials: AtomicU64::new(0),
        };
        // A packet: 3-byte length, sequence, then 0x00 and a 19-byte header of type 30.
        let packet = |len: usize, kind: u8| {
            let mut p = vec![(len & 0xff) as u8, (len >> 8) as u8, 0, 1, 0];
            p.extend_from_slice(&[0, 0, 0, 0, kind]);
            p.resize(4 + len, 7);
            p
        };
        let mut stream = packet(60, 30);
        stream.extend(packet(60, 30));
        let mut scanner = RowEventScanner::default();
        let original = stream.clone();
        scanner.scan(&mut stream, &shared);
        assert_eq!(stream, original, "nothing changes unless asked");
        shared.corrupt.store(true, Ordering::SeqCst);
        let mut more = packet(50, 2);
        more.extend(packet(60, 30));
        more.extend(packet(60, 30));
        let original = more.clone();
        // Split in two chunks to cross a read boundary.
        let (a, b) = more.split_at_mut(70);
        scanner.scan(a, &shared);
        scanner.scan(b, &shared);
        let changed: Vec<usize> = (0..more.len())
            .filter(|&i| more[i] != original[i])
            .collect();
        assert_eq!(
            changed,
            vec![54 + 4 + 60 - 5],
            "one byte of the first row event"
        );
        assert_eq!(shared.corrupted.load(Ordering::SeqCst), 1);
    }
}
