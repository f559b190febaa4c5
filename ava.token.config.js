// `npm run test:token`: the opt-in token-mode stack test (needs CORPUS_KIT_AUTH_SERVER).
import base from './package.json' with { type: 'json' };

export default { ...base.ava, files: ['test/opt-in/token-stack.test.ts'] };
