/**
 * The first frame's worker thread (first-frame.ts starts it): draws what it is sent, one message at a
 * time, and answers with the markup or the error's message.
 */
import { parentPort } from 'node:worker_threads';
import type { FrameRequest } from '../../web/src/first-frame.ts';
import type { FrameData } from '../../web/src/first-frame-options.ts';
import { drawFrame } from './first-frame-draw.ts';

export interface DrawMessage {
  id: number;
  data: FrameData;
  request: FrameRequest;
  localZone: string;
}

export type DrawAnswer = { id: number; markup: string } | { id: number; error: string };

parentPort?.on('message', async (message: DrawMessage) => {
  let answer: DrawAnswer;
  try {
    answer = { id: message.id, markup: await drawFrame(message.data, message.request, message.localZone) };
  } catch (error) {
    answer = { id: message.id, error: error instanceof Error ? error.message : String(error) };
  }
  parentPort?.postMessage(answer);
});
