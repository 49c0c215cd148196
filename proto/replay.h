/*
 * replay: the frames of the replay protocol between a consumer's DEALER and a producer's ROUTER
 * (DESIGN.md §8; docs/durability.md has the full exchange). replay_server.h and replay_client.h
 * are the two ends; this module only encodes and decodes.
 *
 * DESIGN: every message is multipart: frame 0 = "TPR1" (protocol and version), frame 1 = the
 * command in capitals, then the command's fields, one per frame. Integers are unsigned and
 * big-endian: seqs and request ids 8 bytes, credits 4 bytes. Strings carry no NUL. The ROUTER
 * adds the peer's identity in front; replay_server strips it before decoding.
 *
 *   client → server
 *     REQ    req_id source from_seq credit   stream source's journal from from_seq
 *     CREDIT req_id credit                   the client may take `credit` more DATA frames
 *     CANCEL req_id                          stop this stream (the client caught up live)
 *   server → client
 *     START  req_id first_seq last_seq credit   the journal holds [first_seq, last_seq]; credit
 *                                            is the window granted (the REQ's, capped)
 *     DATA   req_id seq topic payload        one journal record (payload = msgpack msg_t)
 *     END    req_id last_seq                 done: live frames after last_seq are on the PUB
 *     ERROR  req_id code first_seq last_seq reason
 *
 * Decoding is total: any multipart message gives a frame or -EPROTO with a static reason.
 */
#ifndef PROTO_REPLAY_H
#define PROTO_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include <czmq.h>

#include "msg.h"

#define REPLAY_PROTOCOL   "TPR1" /* frame 0 of every replay message */
#define REPLAY_REASON_MAX 127    /* bytes of an ERROR reason */

typedef enum {
    REPLAY_CMD_REQ = 0, /* client: start a stream */
    REPLAY_CMD_CREDIT,  /* client: grant more DATA frames */
    REPLAY_CMD_CANCEL,  /* client: stop a stream */
    REPLAY_CMD_START,   /* server: stream accepted */
    REPLAY_CMD_DATA,    /* server: one record */
    REPLAY_CMD_END,     /* server: stream done, live begins after last_seq */
    REPLAY_CMD_ERROR,   /* server: request refused or stream broken */
    REPLAY_CMD_COUNT
} replay_cmd_t;

typedef enum {
    REPLAY_ERR_UNKNOWN_SOURCE = 0, /* this producer keeps no journal for that source */
    REPLAY_ERR_NOT_RETAINED,       /* from_seq < first_seq: deleted by retention */
    REPLAY_ERR_AHEAD,              /* from_seq > last_seq + 1: the journal is behind the client */
    REPLAY_ERR_BAD_REQUEST,        /* malformed or unknown message */
    REPLAY_ERR_BUSY,               /* too many streams; retry later */
    REPLAY_ERR_JOURNAL,            /* the journal could not be read (corrupt record, I/O) */
    REPLAY_ERR_COUNT
} replay_error_t;

/*
 * One decoded or to-be-encoded message. Only the fields of its command are meaningful. topic and
 * payload (DATA) are borrowed: from the zmsg_t it was decoded from, or the caller's when
 * encoding.
 */
typedef struct {
    replay_cmd_t cmd;                   /* command */
    uint64_t req_id;                    /* client-chosen stream id, echoed by the server */
    char source[MSG_SOURCE_MAX + 1];    /* REQ: which journal */
    uint64_t seq;                       /* REQ: from_seq; DATA: the record's seq */
    uint64_t first_seq;                 /* START, ERROR: first seq the journal holds */
    uint64_t last_seq;                  /* START, END, ERROR: last seq the journal holds */
    uint32_t credit;                    /* REQ, CREDIT, START: DATA frames granted */
    replay_error_t error;               /* ERROR: code */
    char reason[REPLAY_REASON_MAX + 1]; /* ERROR: human-readable detail */
    const char *topic;                  /* DATA: topic bytes (not NUL-terminated) */
    size_t topic_len;                   /* DATA: bytes of topic */
    const void *payload;                /* DATA: encoded message */
    size_t size;                        /* DATA: bytes of payload */
} replay_frame_t;

/* Encode f as a new multipart message. Caller owns the result. NULL for an invalid command. */
zmsg_t *replay_encode(const replay_frame_t *f);

/*
 * Decode msg (which stays the caller's; DATA's topic and payload point into it). Returns 0, or
 * -EPROTO with *ret_reason (when not NULL) set to a static explanation.
 */
int replay_decode(zmsg_t *msg, replay_frame_t *ret, const char **ret_reason);

/* "REQ", "unknown-source", ...; NULL when out of range. */
const char *replay_cmd_name(replay_cmd_t cmd);
const char *replay_error_name(replay_error_t error);

#endif
