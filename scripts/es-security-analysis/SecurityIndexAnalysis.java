/*
 * A test-only Elasticsearch plugin for the secured node of scripts/es-node.sh.
 *
 * The .security index (where API keys, native users and tokens live) declares an analyzer
 * "email" built from the tokenizer uax_url_email and the filters pattern_capture, lowercase and
 * unique. Three of those come from the analysis-common module, which the integ-test-zip
 * distribution leaves out and which Maven Central does not carry for this version; without them
 * the node cannot create that index ("Unknown filter type [pattern_capture] for [email]") and so
 * cannot make an API key. This plugin registers the same three names on the Lucene classes the
 * distribution already ships in lib/, and nothing else. A real deployment uses the full
 * distribution, which has analysis-common, and never needs this.
 *
 * Compiled by es-node.sh at start-up against the distribution's own jars (javac, no download).
 */
package org.ttdnhub.securityanalysis;

import java.io.IOException;
import java.util.Map;
import java.util.regex.Pattern;

import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.TokenFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.email.UAX29URLEmailTokenizer;
import org.apache.lucene.analysis.pattern.PatternCaptureGroupTokenFilter;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.index.analysis.TokenizerFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;

public class SecurityIndexAnalysis extends Plugin implements AnalysisPlugin {

    @Override
    public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
        return Map.of(
            "pattern_capture",
            AnalysisPlugin.requiresAnalysisSettings((indexSettings, env, name, settings) -> {
                boolean preserve = settings.getAsBoolean("preserve_original", true);
                Pattern[] patterns = settings.getAsList("patterns").stream().map(Pattern::compile).toArray(Pattern[]::new);
                if (patterns.length == 0) {
                    throw new IllegalArgumentException("pattern_capture filter [" + name + "] needs [patterns]");
                }
                return filter(name, input -> new PatternCaptureGroupTokenFilter(input, preserve, patterns));
            }),
            "unique",
            (indexSettings, env, name, settings) -> filter(name, UniqueTokenFilter::new)
        );
    }

    @Override
    public Map<String, AnalysisProvider<TokenizerFactory>> getTokenizers() {
        return Map.of(
            "uax_url_email",
            (indexSettings, env, name, settings) -> TokenizerFactory.newFactory(name, UAX29URLEmailTokenizer::new)
        );
    }

    private interface Wrap {
        TokenStream apply(TokenStream input);
    }

    private static TokenFilterFactory filter(String name, Wrap wrap) {
        return new TokenFilterFactory() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public TokenStream create(TokenStream input) {
                return wrap.apply(input);
            }
        };
    }

    /** Drops a term already seen earlier in the same stream (the "unique" filter's default). */
    static final class UniqueTokenFilter extends TokenFilter {
        private final CharTermAttribute term = addAttribute(CharTermAttribute.class);
        private final CharArraySet seen = new CharArraySet(8, false);

        UniqueTokenFilter(TokenStream input) {
            super(input);
        }

        @Override
        public boolean incrementToken() throws IOException {
            while (input.incrementToken()) {
                if (seen.contains(term.buffer(), 0, term.length()) == false) {
                    seen.add(term.toString());
                    return true;
                }
            }
            return false;
        }

        @Override
        public void reset() throws IOException {
            super.reset();
            seen.clear();
        }
    }
}
