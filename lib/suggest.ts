// "did you mean" lives in pillar/ (the lowest layer, which depends on nothing
// above it); lib/ and plugins/ take it from here.
export { closest, didYouMean } from '../pillar/suggest.ts';
