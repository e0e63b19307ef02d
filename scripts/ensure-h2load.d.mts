/** h2load's command and the environment to run it in (LD_LIBRARY_PATH for unpacked libraries). */
export declare function ensureH2load(): { command: string; env: NodeJS.ProcessEnv };
