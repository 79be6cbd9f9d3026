/// The finer name of what the tracker saw (docs/tracking.md, "Events"): for a drop, which check
/// failed; for an accepted packet, an anomaly worth logging. The raw values are a public, stable
/// format (event logs, replay output): never rename one silently.
public enum TrackerEvent: String, Sendable, CaseIterable, Hashable {
    // invalid_flags
    /// No S, A, R, F or U bit (NULL scan; PSH alone too).
    case flagsNull = "flags_null"
    /// FIN without ACK (FIN scan), also with PSH or URG alone.
    case flagsFinNoAck = "flags_fin_no_ack"
    /// FIN+PSH+URG without ACK (XMAS scan).
    case flagsXmas = "flags_xmas"
    /// SYN with FIN (whatever else is set).
    case flagsSynFin = "flags_syn_fin"
    /// SYN with RST.
    case flagsSynRst = "flags_syn_rst"
    /// RST with FIN.
    case flagsRstFin = "flags_rst_fin"
    /// URG without ACK.
    case flagsUrgNoAck = "flags_urg_no_ack"
    /// SYN with URG (with or without ACK).
    case flagsSynUrg = "flags_syn_urg"
    /// RST with URG.
    case flagsRstUrg = "flags_rst_urg"

    // no_connection
    /// An ACK without data and no connection.
    case noconAck = "nocon_ack"
    /// A SYN-ACK and no connection.
    case noconSynack = "nocon_synack"
    /// A FIN and no connection.
    case noconFin = "nocon_fin"
    /// A RST and no connection.
    case noconRst = "nocon_rst"
    /// Data (or an ICMP echo reply) and no flow.
    case noconData = "nocon_data"

    // handshake_order
    /// A SYN-ACK from the initiator.
    case synackWrongDir = "synack_wrong_dir"
    /// The initiator's ACK before the SYN-ACK.
    case ackBeforeSynack = "ack_before_synack"
    /// Data before the handshake completed.
    case dataBeforeEstablished = "data_before_established"
    /// A FIN before the handshake completed.
    case finBeforeEstablished = "fin_before_established"
    /// The responder's data before the final ACK (and no Fast Open on the SYN).
    case serverDataBeforeAck = "server_data_before_ack"
    /// The responder's bare ACK while the final ACK is awaited.
    case ackWrongDir = "ack_wrong_dir"
    /// A SYN from the responder after its SYN-ACK.
    case synToclientOnSynRecv = "syn_toclient_on_syn_recv"
    /// More distinct SYN-ACKs for one SYN than are kept (no longer produced: a SYN-ACK
    /// already seen always passes, the oldest alternate is forgotten; kept as a stable name).
    case synackFlood = "synack_flood"
    /// After a SYN-ACK was seen, a SYN-ACK with another ISN that answers no newer SYN of the
    /// initiator (RFC 9293 §3.10.7.3).
    case synackOtherISN = "synack_other_isn"
    /// In a split or simultaneous handshake, a SYN-ACK whose seq is not the sender's SYN's.
    case fourWHSSynackWrongSyn = "4whs_synack_wrong_syn"

    // bad_seq
    /// The segment starts past the receiver's window.
    case seqAboveWindow = "seq_above_window"
    /// The segment ends more than one window before what the sender already sent.
    case seqBelowWindow = "seq_below_window"
    /// New data (sequence space) after the sender's FIN.
    case dataAfterFin = "data_after_fin"
    /// Data into a zero window beyond the one-byte window probe (RFC 9293 §3.10.7.4).
    case zeroWindowData = "zero_window_data"
    /// A handshake packet whose seq is not the sender's ISN.
    case handshakeWrongSeq = "handshake_wrong_seq"

    // bad_ack
    /// The ACK acknowledges bytes the other side never sent.
    case ackAboveSent = "ack_above_sent"
    /// The ACK is older than one maximum window.
    case ackBelowWindow = "ack_below_window"
    /// A SACK edge covers bytes the other side never sent.
    case sackAboveSent = "sack_above_sent"
    /// A SACK block whose left edge is not before its right edge.
    case sackInvalidBlock = "sack_invalid_block"
    /// The SYN-ACK does not acknowledge the SYN (ISN + 1 up to the SYN's data).
    case synackWrongAck = "synack_wrong_ack"
    /// A repeated SYN-ACK with a different ack.
    case synackResendDiffAck = "synack_resend_diff_ack"
    /// The final ACK does not acknowledge the SYN-ACK.
    case finalAckWrong = "final_ack_wrong"

    // rst_invalid
    /// A RST beyond the window.
    case rstOutOfWindow = "rst_out_of_window"
    /// A RST below what the receiver has acknowledged.
    case rstBelowRcvnxt = "rst_below_rcvnxt"
    /// A RST in the window but not exact, with `rstExact` on.
    case rstInexact = "rst_inexact"
    /// A RST whose ACK fails the window checks (or, in SYN_SENT, does not acknowledge the SYN).
    case rstBadAck = "rst_bad_ack"
    /// The responder's RST without ACK in SYN_SENT.
    case rstNoAckInSynSent = "rst_no_ack_in_syn_sent"
    /// The responder's RST+ACK in SYN_SENT echoes a timestamp no SYN of the initiator sent
    /// (or the SYN offered no timestamps), as Linux checks.
    case rstTimestampMismatch = "rst_ts_mismatch"

    // bad_timestamp
    /// PAWS: the TSval is older than the last in-order one from the same side (RFC 7323 §5.3).
    case pawsOldTimestamp = "paws_old_timestamp"
    /// No TSopt on a non-RST segment after both SYNs carried one (RFC 7323 §3.2).
    case timestampMissing = "timestamp_missing"

    // syn_in_established
    /// The initiator's SYN with a new ISN on a synchronised connection.
    case synNewISN = "syn_new_isn"
    /// The initiator's SYN repeated on a synchronised connection.
    case synResend = "syn_resend"
    /// The responder's SYN on a synchronised connection.
    case synToclient = "syn_toclient"
    /// A SYN-ACK that differs from the handshake's on a synchronised connection.
    case synackDiff = "synack_diff"
    /// A SYN in TIME_WAIT that is not a valid reuse (no higher ISN or timestamp).
    case timeWaitOldISN = "time_wait_old_isn"
    /// The initiator's SYN while the connection closes.
    case synInClosing = "syn_in_closing"

    // rate_limited, table_full, icmp_unrelated
    /// The source is over its SYN rate.
    case synRate = "syn_rate"
    /// A half-open cap (per source, or overall) is reached.
    case halfOpenCap = "half_open_cap"
    /// The table is full of entries that may not be evicted.
    case tableFull = "table_full"
    /// An ICMP error that quotes no tracked flow.
    case icmpUnrelated = "icmp_unrelated"

    // Passed but logged.
    /// SYNs crossed (simultaneous open or split handshake).
    case simultaneousOpen = "simultaneous_open"
    /// The initiator repeated its SYN with a new ISN before any reply.
    case synResendDiffSeq = "syn_resend_diff_seq"
    /// More distinct SYNs on one flow than are kept: the oldest was forgotten.
    case synFloodOnFlow = "syn_flood_on_flow"
    /// The responder's bare ACK in SYN_SENT (a challenge ACK from a stale connection).
    case challengeAck = "challenge_ack"
    /// A RST in the window but not exact: passed, state kept, timeout cut.
    case rstInWindowInexact = "rst_in_window_inexact"
    /// Data from a side after its own RST closed the connection.
    case rstInjectionSuspected = "rst_injection_suspected"
    /// A RST carrying data (legal, RFC 1122).
    case rstWithData = "rst_with_data"
    /// The segment starts in the window but ends past it: passed, window grown.
    case windowOverrun = "window_overrun"
    /// A non-zero acknowledgment number without the ACK flag.
    case brokenAck = "broken_ack"
    /// A window-scale shift above 14, used as 14.
    case wscaleClamped = "wscale_clamped"
    /// A TCP option repeated (the first was kept).
    case tcpOptDuplicate = "tcp_opt_duplicate"
    /// A SACK option without blocks (kind 5, length 2): ignored, as Linux ignores it.
    case tcpOptEmptySack = "tcp_opt_empty_sack"
    /// SACK blocks towards a side that did not announce SACK-permitted: ignored.
    case sackNotPermitted = "sack_not_permitted"
    /// A connection picked up mid-stream (`pickup`): windows learned loosely.
    case midstreamPickup = "midstream_pickup"
    /// A SYN reusing a TIME_WAIT connection's 4-tuple with a higher ISN or timestamp.
    case timeWaitReuse = "time_wait_reuse"
    /// The first packet of a connection restored from the state file after a restart: its
    /// windows are learned again from each direction's next segment.
    case stateResumed = "state_resumed"
    /// A segment of an offloaded connection that the kernel's own window tracking found out of
    /// window (`INVALID`) and sent to synwall marked, to be dropped and logged
    /// (docs/offload.md).
    case kernelInvalid = "kernel_invalid"
    /// The same data segment seen three times without progress: timeout capped.
    case retransmissionExcess = "retransmission_excess"

    /// The stable snake_case name (the raw value).
    @inlinable
    public var name: String { rawValue }
}
