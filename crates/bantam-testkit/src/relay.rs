//! A TCP relay that cuts a connection part-way: a server that drops mid-transfer.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A TCP relay on 127.0.0.1 to another local port that cuts its first connection after
/// forwarding `drop_after` bytes from the server: a server that drops mid-transfer.
pub struct DroppingRelay {
    pub port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl DroppingRelay {
    pub async fn start(target_port: u16, drop_after: u64) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let dropped = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let cut = !dropped.swap(true, Ordering::SeqCst);
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(("127.0.0.1", target_port)).await else {
                        return;
                    };
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    let up = tokio::spawn(async move {
                        let _ = tokio::io::copy(&mut cr, &mut sw).await;
                    });
                    let mut sent = 0u64;
                    let mut buf = vec![0u8; 16 << 10];
                    loop {
                        let n = match sr.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        if cut && sent + n as u64 > drop_after {
                            let keep = (drop_after - sent) as usize;
                            let _ = cw.write_all(&buf[..keep]).await;
                            break;
                        }
                        if cw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                        sent += n as u64;
                    }
                    up.abort();
                });
            }
        });
        Ok(Self { port, task })
    }
}

impl Drop for DroppingRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}
