// gulp-cli re-spawns node with these flags so gulpfile.ts loads through tsx
// (gulp's own loader list would try ts-node & co. and print errors).
module.exports = { nodeFlags: ['--import=tsx'] };
