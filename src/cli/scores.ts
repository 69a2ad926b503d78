/** --score: a preset id or a JSON file with a score model. */
import { existsSync, readFileSync } from 'node:fs';
import { parseScoreModel, SCORE_PRESETS, type ScoreModel } from '../metrics/scores.ts';

export function resolveScoreModel(name: string): ScoreModel {
  if (name in SCORE_PRESETS) return SCORE_PRESETS[name as keyof typeof SCORE_PRESETS];
  if (existsSync(name)) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(name, 'utf8'));
    } catch (e) {
      throw new Error(`${name}: not valid JSON: ${(e as Error).message}`);
    }
    return parseScoreModel(raw);
  }
  throw new Error(
    `--score: "${name}" is neither a preset (${Object.keys(SCORE_PRESETS).join(', ')}) nor a file`,
  );
}
