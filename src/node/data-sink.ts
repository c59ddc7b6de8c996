import { createHash, type Hash } from 'node:crypto';
import type { Envelope } from '../crypto/envelope.js';
import { DecodeError } from '../errors.js';
import type { BodySink } from '../wire/body.js';
import { MsgType, unframe } from '../wire/frame.js';
import type { Limits } from '../wire/limits.js';
import { type Data, decodeData } from '../wire/packets.js';

/** A DATA read as it arrived: the packet, and the SHA-256 of its signed bytes. */
export interface StreamedData {
  data: Data;
  inner: Buffer;
}

/** Bodies at least this long are read through a DataSink (smaller ones whole). */
export const STREAM_DATA_BYTES = 64 * 1024;

/**
 * Reads a DATA body as its bytes arrive: decrypts each chunk into the final
 * plaintext buffer and hashes the signed bytes (node_id, then the payload)
 * as soon as they are plain, so that when the last byte is in, only its
 * block is left to decrypt and hash — the work is spread over the transfer,
 * and the event loop serves other requests in between. The plaintext is
 * then decoded in place (the payload handed on is a view of it).
 *
 * Plaintext layout: [type 5][u32 id length][id][u32 sig length][sig][u32 n][payload].
 * The signed bytes are plain[1, 5 + id) ‖ plain[9 + id + sig, end).
 */
export function dataSink(envelope: Envelope, length: number, limits: Limits): BodySink {
  const hash: Hash = createHash('sha256');
  /** Where the payload's length field starts (0 until the layout is known); -1: malformed. */
  let tail = 0;
  let hashedTo = 0;
  const onPlain = (plain: Buffer, upTo: number) => {
    if (tail === 0) {
      if (upTo < 5) return;
      const idLength = plain.readUInt32LE(1);
      if (idLength > limits.maxNodeIdBytes) {
        tail = -1; // decodeData refuses it at the end
        return;
      }
      if (upTo < 9 + idLength) return;
      const sigLength = plain.readUInt32LE(5 + idLength);
      if (sigLength > 64) {
        tail = -1;
        return;
      }
      hash.update(plain.subarray(1, 5 + idLength));
      tail = 9 + idLength + sigLength;
      hashedTo = tail;
    }
    if (tail > 0 && upTo > hashedTo) {
      hash.update(plain.subarray(hashedTo, upTo));
      hashedTo = upTo;
    }
  };
  const opener = envelope.opener(length, onPlain);
  return {
    push: (chunk) => opener.push(chunk),
    finish(): StreamedData {
      const plain = opener.finish() as Buffer;
      const data = decodeData(unframe(plain, MsgType.DATA), limits);
      if (tail <= 0) throw new DecodeError('DSN_ERR_MALFORMED', 'data packet is malformed');
      return { data, inner: hash.digest() };
    },
  };
}
