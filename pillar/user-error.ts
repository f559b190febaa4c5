// Errors a user can act on carry `showStack = false`: gulp-cli then prints
// "Name: message" instead of a stack trace. Defined in the pillar layer, the
// lowest one, so that the pillar can throw it without depending on lib/.
export class UserError extends Error {
  readonly showStack = false;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'Error';
  }
}
