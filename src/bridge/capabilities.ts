import type { ClientCapabilities } from '@modelcontextprotocol/server';
import type { BackendClientRequest } from '../backends/index.js';

/** The capability (dotted path) the client lacks for `request`, or undefined when it has it. */
export function missingCapability(
  request: BackendClientRequest,
  caps: ClientCapabilities | undefined,
): string | undefined {
  switch (request.method) {
    case 'sampling/createMessage':
      if (!caps?.sampling) return 'sampling';
      if (request.params?.tools !== undefined && !caps.sampling.tools) return 'sampling.tools';
      return undefined;
    case 'elicitation/create': {
      if (!caps?.elicitation) return 'elicitation';
      if (request.params?.mode === 'url') return caps.elicitation.url ? undefined : 'elicitation.url';
      // An empty elicitation capability means form mode (as the SDK reads it).
      const { form, url } = caps.elicitation;
      return form || !url ? undefined : 'elicitation.form';
    }
    case 'roots/list':
      return caps?.roots ? undefined : 'roots';
  }
}
