//! The delivery guarantee, under arbitrary interleavings.

use super::*;

#[derive(Debug, Clone)]
enum Op {
    /// The person at client `c` writes something.
    Write(usize),
    /// The next frame from client `c` reaches the server.
    ToServer(usize),
    /// The next frame for client `c` reaches it.
    ToClient(usize),
    /// The connection drops; whatever was in flight either way is lost.
    Drop(usize),
    /// The client (re)connects.
    Connect(usize),
    /// A reload that lost the newest `k` messages from local storage, so it resumes from an
    /// earlier seq than it had seen.
    Reload(usize, usize),
    /// The client re-sends what is still pending (its retry timer).
    Retry(usize),
    Read(usize, u64),
    Tick(u64),
}

const CLIENTS: usize = 3;

fn op() -> impl Strategy<Value = Op> {
    let c = 0..CLIENTS;
    prop_oneof![
        3 => c.clone().prop_map(Op::Write),
        6 => c.clone().prop_map(Op::ToServer),
        6 => c.clone().prop_map(Op::ToClient),
        1 => c.clone().prop_map(Op::Drop),
        2 => c.clone().prop_map(Op::Connect),
        1 => (c.clone(), 0..4usize).prop_map(|(c, k)| Op::Reload(c, k)),
        1 => c.clone().prop_map(Op::Retry),
        1 => (c.clone(), 0..12u64).prop_map(|(c, s)| Op::Read(c, s)),
        1 => (0..4_000u64).prop_map(Op::Tick),
    ]
}

struct Peer {
    author: Author,
    client: ChatClient,
    connected: bool,
    /// The server processed this connection's hello: it now receives broadcasts.
    joined: bool,
    to_server: VecDeque<ClientFrame>,
    to_client: VecDeque<ServerFrame>,
}

struct World {
    server: Conversation<InMemoryStore>,
    peers: Vec<Peer>,
    now: u64,
    written: Vec<String>,
    markers: [u64; 2],
}

impl World {
    fn new() -> World {
        // A tight limit so rate limiting and deferred re-sends are part of the interleavings.
        let policy = ChatPolicy { visitor_burst: 3, visitor_per_minute: 60, reply_wait_ms: 90_000, ..ChatPolicy::default() };
        let peers = [Author::Visitor, Author::Visitor, anna()]
            .into_iter()
            .map(|author| Peer {
                author,
                client: ChatClient::default(),
                connected: false,
                joined: false,
                to_server: VecDeque::new(),
                to_client: VecDeque::new(),
            })
            .collect();
        World { server: conversation(policy), peers, now: T0, written: Vec::new(), markers: [0, 0] }
    }

    fn apply(&mut self, op: Op) -> Result<(), TestCaseError> {
        match op {
            Op::Write(c) => {
                let id = format!("msg-{:06}", self.written.len());
                let frame = self.peers[c].client.send(&id, &format!("text of {id}"));
                self.written.push(id);
                if self.peers[c].connected {
                    self.peers[c].to_server.push_back(frame);
                }
            }
            Op::ToServer(c) => {
                let Some(frame) = self.peers[c].to_server.pop_front() else { return Ok(()) };
                let is_hello = matches!(frame, ClientFrame::Hello { .. });
                let author = self.peers[c].author.clone();
                let out = self.server.handle(&author, frame, self.now, true);
                if is_hello {
                    self.peers[c].joined = true;
                }
                self.peers[c].to_client.extend(out.reply);
                for AddressedFrame { to, frame } in out.broadcast {
                    for (i, peer) in self.peers.iter_mut().enumerate() {
                        let side = peer.author.side();
                        let addressed = match to {
                            Audience::Everyone => true,
                            Audience::Visitors => side == Some(Side::Visitor),
                            Audience::Operators => side == Some(Side::Operator),
                            Audience::AllButSender => i != c,
                        };
                        if addressed && peer.joined {
                            peer.to_client.push_back(frame.clone());
                        }
                    }
                }
                for side in [Side::Visitor, Side::Operator] {
                    let marker = self.server.store().read_marker(side).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    prop_assert!(marker >= self.markers[side_index(side)], "read markers never move back");
                    self.markers[side_index(side)] = marker;
                }
            }
            Op::ToClient(c) => {
                let peer = &mut self.peers[c];
                let Some(frame) = peer.to_client.pop_front() else { return Ok(()) };
                // The server must never send a client a seq it already holds or one that skips.
                let before = peer.client.last_seq();
                if let ServerFrame::Message(m) = &frame {
                    prop_assert_eq!(m.seq, before + 1, "client {} got seq {} after {}", c, m.seq, before);
                }
                if let ServerFrame::Welcome(w) = &frame {
                    prop_assert!(!w.reset);
                    let expected: Vec<u64> = ((before + 1)..=(before + w.history.len() as u64)).collect();
                    prop_assert_eq!(w.history.iter().map(|m| m.seq).collect::<Vec<_>>(), expected);
                }
                let is_welcome = matches!(frame, ServerFrame::Welcome(_));
                let is_message = matches!(frame, ServerFrame::Message(_));
                let event = peer.client.receive(frame);
                prop_assert_ne!(&event, &ClientEvent::Resync);
                if is_message {
                    prop_assert_eq!(&event, &ClientEvent::Messages, "no duplicates reach a client");
                }
                if is_welcome {
                    let resend = peer.client.resend_pending();
                    peer.to_server.extend(resend);
                }
            }
            Op::Drop(c) => {
                let peer = &mut self.peers[c];
                peer.connected = false;
                peer.joined = false;
                peer.to_server.clear();
                peer.to_client.clear();
            }
            Op::Connect(c) => {
                let peer = &mut self.peers[c];
                if !peer.connected {
                    peer.connected = true;
                    let hello = peer.client.hello("tab-000001");
                    peer.to_server.push_back(hello);
                }
            }
            Op::Reload(c, k) => {
                self.apply(Op::Drop(c))?;
                let peer = &mut self.peers[c];
                let kept = peer.client.messages().len().saturating_sub(k);
                peer.client = ChatClient::new(peer.client.messages()[..kept].to_vec(), peer.client.pending().to_vec());
            }
            Op::Retry(c) => {
                let peer = &mut self.peers[c];
                if peer.joined {
                    let resend = peer.client.resend_pending();
                    peer.to_server.extend(resend);
                }
            }
            Op::Read(c, up_to) => {
                let peer = &mut self.peers[c];
                if peer.connected {
                    peer.to_server.push_back(ClientFrame::Read { up_to_seq: up_to });
                }
            }
            Op::Tick(ms) => self.now += ms,
        }
        Ok(())
    }

    /// Lets the network settle: everyone connects, every frame is delivered, deferred messages
    /// are retried after the limiter refills.
    fn settle(&mut self) -> Result<(), TestCaseError> {
        for c in 0..CLIENTS {
            self.apply(Op::Connect(c))?;
        }
        for _ in 0..200 {
            let mut moved = false;
            for c in 0..CLIENTS {
                while !self.peers[c].to_server.is_empty() || !self.peers[c].to_client.is_empty() {
                    self.apply(Op::ToServer(c))?;
                    self.apply(Op::ToClient(c))?;
                    moved = true;
                }
            }
            if !moved {
                if self.peers.iter().all(|p| p.client.pending().is_empty()) {
                    return Ok(());
                }
                self.apply(Op::Tick(60_000))?;
                for c in 0..CLIENTS {
                    self.apply(Op::Retry(c))?;
                }
            }
        }
        Err(TestCaseError::fail("the network did not settle"))
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn every_message_is_seen_exactly_once_in_order(ops in prop::collection::vec(op(), 0..120)) {
        let mut world = World::new();
        for op in ops {
            world.apply(op)?;
        }
        world.settle()?;

        let stored = world.server.store().all_messages();
        // Seqs are 1..=n: strictly increasing and gapless.
        prop_assert_eq!(stored.iter().map(|m| m.seq).collect::<Vec<_>>(), (1..=stored.len() as u64).collect::<Vec<_>>());
        // Everything written was stored exactly once, however often it was re-sent.
        let mut ids: Vec<&str> = stored.iter().filter_map(|m| m.client_msg_id.as_deref()).collect();
        ids.sort_unstable();
        let mut written: Vec<&str> = world.written.iter().map(String::as_str).collect();
        written.sort_unstable();
        prop_assert_eq!(ids, written);
        // Every client holds the whole conversation, each message once, in seq order.
        for peer in &world.peers {
            prop_assert_eq!(peer.client.messages(), stored);
            prop_assert!(peer.client.pending().is_empty());
        }
    }

    #[test]
    fn hello_from_any_point_returns_exactly_the_rest(n in 0..80u64, last_seen in 0..100u64) {
        let mut c = conversation(ChatPolicy { visitor_burst: 1000, ..ChatPolicy::default() });
        for i in 1..=n {
            send(&mut c, &Author::Visitor, &format!("m-{i:06}"), "x", T0 + i);
        }
        let out = c.hello(&Author::Visitor, last_seen, true).unwrap();
        let mut got = Vec::new();
        let mut reset = false;
        for frame in out.reply {
            match frame {
                ServerFrame::Welcome(w) => {
                    reset = w.reset;
                    got.extend(w.history.into_iter().map(|m| m.seq));
                }
                ServerFrame::Message(m) => got.push(m.seq),
                other => prop_assert!(false, "unexpected {:?}", other),
            }
        }
        let from = if last_seen > n { 0 } else { last_seen };
        prop_assert_eq!(reset, last_seen > n);
        prop_assert_eq!(got, ((from + 1)..=n).collect::<Vec<_>>());
    }

    #[test]
    fn duplicates_never_append(sends in prop::collection::vec((0..6usize, any::<bool>()), 1..60)) {
        let mut c = conversation(ChatPolicy { visitor_burst: 1000, ..ChatPolicy::default() });
        let mut first_seq = std::collections::HashMap::new();
        for (i, (key, operator)) in sends.into_iter().enumerate() {
            let who = if operator { anna() } else { Author::Visitor };
            let id = format!("key-{key:04}");
            let out = send(&mut c, &who, &id, "x", T0 + i as u64);
            let [ServerFrame::Ack { seq, .. }] = out.reply[..] else { return Err(TestCaseError::fail("no ack")) };
            let first = *first_seq.entry((operator, key)).or_insert(seq);
            prop_assert_eq!(seq, first);
        }
        prop_assert_eq!(c.store().all_messages().len(), first_seq.len());
    }
}
