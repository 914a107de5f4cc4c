import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder that holds the package.json above `moduleUrl`. Files shipped beside the code (drizzle/, the
 * built page in dist/web) are found from here rather than by a fixed `../..`, because the same module runs
 * from src/ under tsx and from dist/app/src/ once compiled, one level deeper.
 */
export function packageRoot(moduleUrl: string): string {
  let dir = path.dirname(fileURLToPath(moduleUrl));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(moduleUrl)}`);
    dir = parent;
  }
  return dir;
}
